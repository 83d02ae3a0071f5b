import { randomUUID } from 'node:crypto';
import { api, fetchServiceToken, stackInfo, tokenFor } from '@mercato/devstack';
import type { Category, CategoryNode, CategoryTree, Page, Problem } from './support';

/** `GET /categories?tree=true`, `depth`, and reads with a service's own identity. */

const run = randomUUID().slice(0, 8);
const slug = (name: string) => `tree-${run}-${name}`;

async function create(name: string, parentId?: string): Promise<Category> {
  const response = await api<Category>('POST', '/api/categories', { token: await tokenFor('editor'), body: { name, slug: slug(name), parentId } });
  expect(response.status).toBe(201);
  return response.body;
}

/** Slugs and child counts only, without the run's prefix, so a test reads the shape. */
const shape = (nodes: CategoryNode[]): unknown =>
  nodes.map((node) => ({ [node.slug.replace(`tree-${run}-`, '')]: node.childCount, children: shape(node.children) }));

let root: Category;

beforeAll(async () => {
  // root → { bravo, alpha → alpha-one → alpha-one-x }, created out of slug order.
  root = await create('root');
  await create('bravo', root.id);
  const alpha = await create('alpha', root.id);
  const alphaOne = await create('alpha-one', alpha.id);
  await create('alpha-one-x', alphaOne.id);
});

async function tree(query: string, token?: string) {
  return api<CategoryTree & Problem>('GET', `/api/categories?tree=true&${query}`, { token: token ?? (await tokenFor('viewer')) });
}

describe('the category tree', () => {
  it('when the tree below a parent is asked for, then each node nests its children sorted by slug', async () => {
    const response = await tree(`parent=${root.slug}`);
    expect(response.status).toBe(200);
    expect(shape(response.body.items)).toEqual([
      { alpha: 1, children: [{ 'alpha-one': 1, children: [{ 'alpha-one-x': 0, children: [] }] }] },
      { bravo: 0, children: [] },
    ]);
    expect(response.body.items[0]).toMatchObject({ parentId: root.id, ancestors: [root.id], version: 1 });
  });

  it('when a depth is given, then that many levels below the top level come, and cut nodes still count their children', async () => {
    expect(shape((await tree(`parent=${root.id}&depth=0`)).body.items)).toEqual([{ alpha: 1, children: [] }, { bravo: 0, children: [] }]);
    expect(shape((await tree(`parent=${root.id}&depth=1`)).body.items)).toEqual([
      { alpha: 1, children: [{ 'alpha-one': 1, children: [] }] },
      { bravo: 0, children: [] },
    ]);
  });

  it('when the whole tree is asked for, then the roots come sorted by slug with this subtree below its root', async () => {
    const response = await tree('depth=1');
    expect(response.status).toBe(200);
    const slugs = response.body.items.map((node) => node.slug);
    expect(slugs).toEqual([...slugs].sort());
    const ours = response.body.items.find((node) => node.id === root.id)!;
    expect(shape([ours])).toEqual([{ root: 2, children: [{ alpha: 1, children: [] }, { bravo: 0, children: [] }] }]);
  });

  it('when the parent does not exist, then the tree is empty, as the flat list is', async () => {
    const response = await tree(`parent=${slug('nowhere')}`);
    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([]);
  });

  it('when the tree is asked for with paging or text search, then 422 naming each field', async () => {
    const response = await tree('q=alpha&total=true');
    expect(response.status).toBe(422);
    expect(response.body.type).toBe('https://mercato.dev/problems/tree-not-pageable');
    expect(response.body.errors?.map((e) => e.path).sort()).toEqual(['query.q', 'query.total']);
  });

  it('when the flat list is filtered by depth, then only categories that many levels below a root come', async () => {
    const viewer = await tokenFor('viewer');
    const atTwo = await api<Page>('GET', `/api/categories?q=tree-${run}&depth=2`, { token: viewer });
    expect(atTwo.status).toBe(200);
    expect(atTwo.body.items.map((c) => c.slug)).toEqual([slug('alpha-one')]);
    const roots = await api<Page>('GET', `/api/categories?q=tree-${run}&depth=0`, { token: viewer });
    expect(roots.body.items.map((c) => c.slug)).toEqual([slug('root')]);
    expect((await api<Problem>('GET', '/api/categories?depth=-1', { token: viewer })).status).toBe(400);
  });
});

describe('reads with a service identity', () => {
  it("when another service reads with its own client-credentials token (role 'service'), then it gets the tree and one category, and may not write", async () => {
    const { keycloakUrl, serviceClients } = stackInfo();
    const service = await fetchServiceToken(keycloakUrl, serviceClients['sequence']!);
    expect((await tree(`parent=${root.id}`, service)).status).toBe(200);
    const one = await api<Category>('GET', `/api/categories/${root.slug}`, { token: service });
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(root.id);
    const write = await api('POST', '/api/categories', { token: service, body: { name: 'Not a service job', slug: slug('denied') } });
    expect(write.status).toBe(403);
  });
});

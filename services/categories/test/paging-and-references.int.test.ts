import { randomUUID } from 'node:crypto';
import { api, tokenFor } from '@mercato/devstack';
import { type Category, type Page, type Problem, uniqueSlug as unique } from './support';

async function create(body: object): Promise<Category> {
  const response = await api<Category>('POST', '/api/categories', { token: await tokenFor('editor'), body });
  expect(response.status).toBe(201);
  return response.body;
}

/** A parent with children whose slugs sort as named, so each test pages through a list only it writes to. */
async function family(children: string[]) {
  const parent = await create({ name: 'Parent', slug: unique('paging-parent') });
  const suffix = randomUUID().slice(0, 8);
  const created: Category[] = [];
  for (const child of children) created.push(await create({ name: child, slug: `${child}-${suffix}`, parentId: parent.id }));
  return { parent, children: created, slugOf: (child: string) => `${child}-${suffix}` };
}

describe('paging through a list', () => {
  it('when a list is read page by page, then every item comes once, in slug order, and the last page has no next cursor', async () => {
    const { parent, children } = await family(['a', 'b', 'c', 'd', 'e']);
    const viewer = await tokenFor('viewer');
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const query: string = `parent=${parent.id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await api<Page>('GET', `/api/categories?${query}`, { token: viewer });
      expect(page.status).toBe(200);
      expect(page.body.total).toBeUndefined();
      seen.push(...page.body.items.map((c) => c.slug));
      cursor = page.body.nextCursor;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(children.map((c) => c.slug));
  });

  it('when categories are added between two pages, then the next page neither repeats nor skips existing ones', async () => {
    const { parent, slugOf } = await family(['b', 'd', 'f']);
    const viewer = await tokenFor('viewer');
    const first = await api<Page>('GET', `/api/categories?parent=${parent.id}&limit=2`, { token: viewer });
    expect(first.body.items.map((c) => c.slug)).toEqual([slugOf('b'), slugOf('d')]);

    await create({ name: 'a', slug: slugOf('a'), parentId: parent.id }); // sorts before the cursor
    await create({ name: 'e', slug: slugOf('e'), parentId: parent.id }); // sorts after it
    const second = await api<Page>('GET', `/api/categories?parent=${parent.id}&limit=2&cursor=${first.body.nextCursor}`, { token: viewer });
    expect(second.body.items.map((c) => c.slug)).toEqual([slugOf('e'), slugOf('f')]);
  });

  it('when the total is asked for, then it counts the whole list, whichever page is read', async () => {
    const { parent } = await family(['a', 'b', 'c']);
    const viewer = await tokenFor('viewer');
    const first = await api<Page>('GET', `/api/categories?parent=${parent.slug}&limit=2&total=true`, { token: viewer });
    expect(first.body.total).toBe(3);
    const second = await api<Page>('GET', `/api/categories?parent=${parent.slug}&limit=2&total=true&cursor=${first.body.nextCursor}`, { token: viewer });
    expect(second.body).toMatchObject({ total: 3, nextCursor: null });
  });

  it('when the cursor is malformed or altered, then 400 naming query.cursor', async () => {
    const { parent } = await family(['a', 'b']);
    const viewer = await tokenFor('viewer');
    const first = await api<Page>('GET', `/api/categories?parent=${parent.id}&limit=1`, { token: viewer });
    const altered = Buffer.from(
      Buffer.from(first.body.nextCursor!, 'base64url').toString('utf8').replace(/"after":\["/, '"after":["0'),
    ).toString('base64url');
    for (const cursor of ['not*base64', 'bm90LWpzb24', altered]) {
      const refused = await api<Problem>('GET', `/api/categories?cursor=${encodeURIComponent(cursor)}`, { token: viewer });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.map((e) => e.path)).toEqual(['query.cursor']);
    }
  });

  it('when the limit is over the maximum, then 400 names the maximum instead of cutting the page', async () => {
    const refused = await api<Problem>('GET', '/api/categories?limit=1000', { token: await tokenFor('viewer') });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: 'query.limit', message: 'must be at most 200' }]);
  });
});

describe('naming a category by id or slug', () => {
  it('when a category is read, changed, listed under and deleted by its slug in any case, then each works', async () => {
    const { parent, children } = await family(['leaf']);
    const leaf = children[0]!;
    const editor = await tokenFor('editor');
    const admin = await tokenFor('admin');

    const read = await api<Category>('GET', `/api/categories/${leaf.slug.toUpperCase()}`, { token: editor });
    expect(read.body.id).toBe(leaf.id);
    const byUpperId = await api<Category>('GET', `/api/categories/${leaf.id.toUpperCase()}`, { token: editor });
    expect(byUpperId.body.id).toBe(leaf.id);

    const listed = await api<Page>('GET', `/api/categories?parent=${parent.slug.toUpperCase()}`, { token: editor });
    expect(listed.body.items.map((c) => c.id)).toEqual([leaf.id]);

    const changed = await api<Category>('PATCH', `/api/categories/${leaf.slug}`, { token: editor, body: { description: 'by slug' } });
    expect(changed.status).toBe(200);
    expect(changed.body.description).toBe('by slug');

    expect((await api('DELETE', `/api/categories/${leaf.slug.toUpperCase()}`, { token: admin })).status).toBe(204);
    expect((await api('GET', `/api/categories/${leaf.id}`, { token: admin })).status).toBe(404);
  });

  it('when a list names a parent that does not exist, then the page is empty', async () => {
    const page = await api<Page>('GET', `/api/categories?parent=${unique('no-such-parent')}`, { token: await tokenFor('viewer') });
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ items: [], nextCursor: null });
  });
});

describe('what a client is told', () => {
  it('when a method is not served on a path, then 405 problem+json with Allow', async () => {
    const category = await create({ name: 'Methods', slug: unique('methods') });
    const response = await api<Problem>('PUT', `/api/categories/${category.id}`, { token: await tokenFor('admin'), body: { name: 'x' } });
    expect(response.status).toBe(405);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH');
  });

  it('when a change names no field, then 400 lists the fields one may send', async () => {
    const category = await create({ name: 'Empty change', slug: unique('empty-change') });
    const response = await api<Problem>('PATCH', `/api/categories/${category.id}`, { token: await tokenFor('editor'), body: {} });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'body', message: 'send at least one of the fields name, slug, parentId, description' }]);
  });

  it('when a field is missing, then it is reported as required, and instance names the path the client called', async () => {
    const response = await api<Problem>('POST', '/api/categories', { token: await tokenFor('editor'), body: { name: 'No slug' } });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'body.slug', message: 'required' }]);
    expect(response.body.instance).toBe('/api/categories');
  });
});

import { randomUUID } from 'node:crypto';
import { api, replicaApi, stackInfo, tokenFor } from '@mercato/devstack';
import type { Category, CategoryTree } from './support';

/**
 * The tree is read cache-aside (per-replica memory, then the shared Dapr state store) under a key naming the tree's
 * state, which every write changes before it answers: a read on either replica after a write never sees the older tree.
 */

const run = randomUUID().slice(0, 8);

async function treeOn(replica: number, parent: string): Promise<CategoryTree> {
  const response = await replicaApi<CategoryTree>('categories', replica, 'GET', `/categories?tree=true&parent=${parent}`, { token: await tokenFor('viewer') });
  expect(response.status).toBe(200);
  return response.body;
}

/** `cache_requests_total` of the tree cache on one replica, by level and result. */
async function treeCacheCounts(replica: number): Promise<Record<string, number>> {
  const { metricsPort } = stackInfo().replicas['categories']![replica - 1]!;
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^cache_requests_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels['cache'] === 'category-tree') counts[`${labels['level']}:${labels['result']}`] = Number(match[2]);
  }
  return counts;
}

describe('the cached category tree on two replicas', () => {
  it('when a category is written through one replica, then the very next tree read on either replica shows it, every time', async () => {
    const editor = await tokenFor('editor');
    const root = await api<Category>('POST', '/api/categories', { token: editor, body: { name: 'Cached', slug: `cached-${run}` } });
    const leaf = await api<Category>('POST', '/api/categories', { token: editor, body: { name: 'Leaf 0', slug: `cached-${run}-leaf`, parentId: root.body.id } });
    expect(leaf.status).toBe(201);

    for (let round = 1; round <= 5; round += 1) {
      // Both replicas hold the current tree in memory and in the shared store before the write.
      await treeOn(1, root.body.id);
      await treeOn(2, root.body.id);
      const writer = round % 2 === 0 ? 1 : 2;
      const renamed = await replicaApi<Category>('categories', writer, 'PATCH', `/categories/${leaf.body.id}`, { token: editor, body: { name: `Leaf ${round}` } });
      expect(renamed.status).toBe(200);
      for (const replica of [1, 2]) {
        const names = (await treeOn(replica, root.body.id)).items.map((node) => node.name);
        expect({ round, replica, names }).toEqual({ round, replica, names: [`Leaf ${round}`] });
      }
    }
  });

  it('when the tree is read again without a write, then it is served from the cache', async () => {
    const before = await treeCacheCounts(1);
    await treeOn(1, 'root');
    await treeOn(1, 'root');
    const after = await treeCacheCounts(1);
    const hits = (counts: Record<string, number>) => (counts['l1:hit'] ?? 0) + (counts['l2:hit'] ?? 0);
    expect(hits(after) - hits(before)).toBeGreaterThanOrEqual(1);
  });
});

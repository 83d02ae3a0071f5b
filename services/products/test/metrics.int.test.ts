import { api, replicaApi, stackInfo, tokenFor } from '@mercato/devstack';
import { createProduct, newCategory } from './support';

/** A products replica's Prometheus page (its own port, never routed through the ingress). */
const metricsOf = async (replica: number) =>
  (await fetch(`http://127.0.0.1:${stackInfo().replicas['products']![replica - 1]!.metricsPort}/metrics`)).text();

/** The sum of a metric's series that carry these labels (whatever other labels they have); 0 when there are none. */
function sumOf(page: string, name: string, labels: Record<string, string>): number {
  return page
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([label, value]) => l.includes(`${label}="${value}"`)))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('products metrics and discovery (Prometheus, a port of each replica\'s own)', () => {
  it('when a detail is read twice on one replica, then its /metrics counts an L1 miss and then an L1 hit', async () => {
    const { body: product } = await createProduct(await newCategory('Metrics'));
    const viewer = await tokenFor('viewer');
    const before = await metricsOf(2);
    // Replica 2 did not write it: the first read misses L1, the second hits it.
    expect((await replicaApi('products', 2, 'GET', `/products/${product.id}`, { token: viewer })).status).toBe(200);
    expect((await replicaApi('products', 2, 'GET', `/products/${product.id}`, { token: viewer })).status).toBe(200);
    const after = await metricsOf(2);
    const grew = (level: string, result: string) =>
      sumOf(after, 'cache_requests_total', { cache: 'product', level, result }) > sumOf(before, 'cache_requests_total', { cache: 'product', level, result });
    expect({ l1Miss: grew('l1', 'miss'), l1Hit: grew('l1', 'hit') }).toEqual({ l1Miss: true, l1Hit: true });
    expect(sumOf(after, 'http_request_duration_seconds_count', { route: '/products/:id' })).toBeGreaterThan(0);
  });

  it('when categories asks products many times, then Dapr name resolution spreads the calls over both replicas', async () => {
    const route = '/products/category-usage/:categoryId';
    const served = async () => [1, 2].map(async (replica) => sumOf(await metricsOf(replica), 'http_request_duration_seconds_count', { route }));
    const before = await Promise.all(await served());
    const admin = await tokenFor('admin');
    // Each deletion asks products whether the category still holds products (GET /products/category-usage/<id>).
    for (let i = 0; i < 12; i++) {
      const id = await newCategory(`Discovery ${i}`);
      expect((await api('DELETE', `/api/categories/${id}`, { token: admin })).status).toBe(204);
    }
    const after = await Promise.all(await served());
    expect(after[0]! - before[0]! + after[1]! - before[1]!).toBeGreaterThanOrEqual(12);
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
  });
});

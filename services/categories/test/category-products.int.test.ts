import { api, controlProcess, eventually, stackInfo, tokenFor } from '@mercato/devstack';
import { type Category, type Problem, uniqueSlug } from './support';

/**
 * A category that still holds products cannot be deleted: categories asks the products service (Dapr service
 * invocation, `GET /products/category-usage/<id>`, the admin's token forwarded) under the delete's tree claim.
 */

interface Product {
  id: string;
}

async function category(): Promise<Category> {
  const response = await api<Category>('POST', '/api/categories', { token: await tokenFor('editor'), body: { name: 'Holds products', slug: uniqueSlug('stocked') } });
  expect(response.status).toBe(201);
  return response.body;
}

async function product(categoryId: string): Promise<Product> {
  const body = { sku: uniqueSlug('SKU'), name: 'Filed product', categoryIds: [categoryId], price: { amount: 1999, currency: 'USD' } };
  const response = await api<Product>('POST', '/api/products', { token: await tokenFor('editor'), body });
  expect(response.status).toBe(201);
  return response.body;
}

const stillThere = async (id: string) => (await api('GET', `/api/categories/${id}`, { token: await tokenFor('viewer') })).status === 200;

describe('deleting a category that holds products', () => {
  it('when products are filed under the category, then 409 category-has-products with the count; once they are gone, then 204', async () => {
    const stocked = await category();
    const filed = [await product(stocked.id), await product(stocked.id)];
    const admin = await tokenFor('admin');

    const refused = await api<Problem>('DELETE', `/api/categories/${stocked.id}`, { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('https://mercato.dev/problems/category-has-products');
    expect(refused.body.detail).toMatch(/\b2 products\b/);
    expect(await stillThere(stocked.id)).toBe(true);

    for (const { id } of filed) expect((await api('DELETE', `/api/products/${id}`, { token: admin })).status).toBe(204);
    expect((await api('DELETE', `/api/categories/${stocked.id}`, { token: admin })).status).toBe(204);
    expect(await stillThere(stocked.id)).toBe(false);
  });

  it('when the products service is unreachable, then 503 with Retry-After and nothing is deleted', async () => {
    const empty = await category();
    const replicas = stackInfo().replicas['products']?.length ?? 1;
    const names = Array.from({ length: replicas }, (_, i) => `products-${i + 1}`);
    for (const name of names) await controlProcess(name, 'stop');
    try {
      const refused = await api<Problem>('DELETE', `/api/categories/${empty.id}`, { token: await tokenFor('admin') });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await stillThere(empty.id)).toBe(true);
    } finally {
      for (const name of names) await controlProcess(name, 'start');
    }
    // Once products is back, the same delete goes through.
    const deleted = await eventually(
      async () => (await api('DELETE', `/api/categories/${empty.id}`, { token: await tokenFor('admin') })).status,
      (status) => status === 204 || status === 404,
      30_000,
    );
    expect(deleted).toBe(204);
  }, 90_000);
});

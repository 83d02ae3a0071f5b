import { randomUUID } from 'node:crypto';
import { api, tokenFor } from '@mercato/devstack';

/** What the integration tests read back: the service's own output types, and the platform's problem document. */
export type { Product } from '../src/domain/product-schema';
export type { ProblemDocument as Problem } from '@mercato/platform';
import type { Product } from '../src/domain/product-schema';
import type { ProductFacets } from '../src/domain/product-search';

export interface SearchPage {
  items: Product[];
  total: number;
  nextCursor: string | null;
  facets: ProductFacets;
}

/** Each test makes its own data: a word no other test (or earlier run) uses. */
export const uniqueWord = (base: string) => `${base}${randomUUID().replace(/-/g, '').slice(0, 8)}`;

/** A new category (through the categories API) to file products under; returns its id. */
export async function newCategory(name: string, parentId: string | null = null): Promise<string> {
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${randomUUID().slice(0, 8)}`;
  const created = await api<{ id: string }>('POST', '/api/categories', { token: await tokenFor('editor'), body: { name, slug, parentId } });
  if (created.status !== 201) throw new Error(`category not created: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/** A valid product body; `overrides` replace fields. */
export const productBody = (categoryId: string, overrides: Record<string, unknown> = {}) => ({
  sku: `T-${randomUUID().slice(0, 13)}`,
  name: 'Test product',
  description: 'A product made by a test',
  categoryIds: [categoryId],
  price: { amount: 1999, currency: 'USD' },
  attributes: {},
  tags: [],
  stock: 5,
  status: 'active',
  ...overrides,
});

export async function createProduct(categoryId: string, overrides: Record<string, unknown> = {}) {
  const response = await api<Product>('POST', '/api/products', { token: await tokenFor('editor'), body: productBody(categoryId, overrides) });
  if (response.status !== 201) throw new Error(`product not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

export async function search(query: string, role: 'viewer' | 'editor' = 'viewer') {
  return api<SearchPage>('GET', `/api/products?${query}`, { token: await tokenFor(role) });
}

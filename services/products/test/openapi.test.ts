import { servedRoutes } from '@mercato/devstack';
import type { ProductUseCases } from '../src/domain/product-use-cases';
import { apiDocument, productOperations } from '../src/entry-points/api/openapi';
import { productRoutes } from '../src/entry-points/api/routes';

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; required?: string[] };
interface OperationObject {
  parameters: Array<{ name: string; in: string; schema: Schema }>;
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }>;
}

const maxPageSize = 100;
const operation = (path: string, method: string) =>
  (apiDocument['paths'] as Record<string, Record<string, OperationObject>>)[path]![method]!;

describe('the products OpenAPI document', () => {
  it('when compared with the router, then every served route is documented and nothing else', () => {
    const documented = productOperations(maxPageSize).map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(servedRoutes(productRoutes({} as ProductUseCases, maxPageSize)).sort());
  });

  it('when the search is documented, then its filters, sort, cursor and bounded limit are parameters', () => {
    const names = operation('/products', 'get').parameters.map((p) => p.name);
    expect(names.sort()).toEqual(['category', 'cursor', 'in_stock', 'limit', 'order', 'price_max', 'price_min', 'q', 'sort', 'status', 'subtree', 'tags']);
    const limit = operation('/products', 'get').parameters.find((p) => p.name === 'limit')!;
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: maxPageSize });
    const page = operation('/products', 'get').responses['200']!.content!['application/json']!.schema;
    expect(page.required!.sort()).toEqual(['facets', 'items', 'nextCursor', 'total']);
  });

  it('when conditional requests are documented, then reads take If-None-Match (304) and writes If-Match (412), a deletion without an ETag', () => {
    const headers = (path: string, method: string) => operation(path, method).parameters.filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers('/products/{id}', 'get')).toEqual(['If-None-Match']);
    for (const method of ['put', 'patch', 'delete']) {
      expect(headers('/products/{id}', method)).toEqual(['If-Match']);
      expect(Object.keys(operation('/products/{id}', method).responses)).toContain('412');
    }
    expect(Object.keys(operation('/products/{id}', 'get').responses)).toContain('304');
    expect(Object.keys(operation('/products/{id}', 'patch').responses['200']!.headers ?? {})).toEqual(['ETag']);
    expect(operation('/products/{id}', 'delete').responses['204']!.headers).toBeUndefined();
  });

  it('when a write can be refused for the state it finds, then 409 and 422 are documented', () => {
    expect(Object.keys(operation('/products', 'post').responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
    expect(Object.keys(operation('/products/{id}', 'put').responses)).toEqual(expect.arrayContaining(['404', '409', '422']));
  });
});

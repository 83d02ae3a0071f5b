import { apiDocumentModule, mergeOpenApiDocuments, renderAggregateOpenApi } from '../src/openapi-aggregate';
import { frontEndServices, platformServices } from '../src/services';

const problem = { type: 'object', properties: { type: { type: 'string' } } };
const bearer = { type: 'http', scheme: 'bearer' };

const categories = {
  service: { appId: 'categories', ingress: { prefix: '/api/categories', appPath: '/categories' } },
  document: {
    openapi: '3.1.0',
    info: { title: 'Categories', version: '1', description: 'The category tree' },
    servers: [{ url: '/api' }],
    paths: {
      '/categories': { get: { responses: { 400: { $ref: '#/components/schemas/Problem' } } } },
      '/categories/{id}': { parameters: [], patch: { operationId: 'change', responses: { 200: { $ref: '#/components/schemas/Item' } } } },
      '/admin/log-level': { put: { responses: {} } },
    },
    components: { schemas: { Problem: problem, Item: { type: 'object', title: 'category' } }, securitySchemes: { bearer } },
  },
};
const products = {
  service: { appId: 'products', ingress: { prefix: '/api/products', appPath: '/products' } },
  document: {
    openapi: '3.1.0',
    info: { title: 'Products', version: '1' },
    paths: { '/products/{id}': { get: { operationId: 'change', responses: { 200: { $ref: '#/components/schemas/Item' } } } } },
    components: { schemas: { Problem: problem, Item: { type: 'object', title: 'product' } }, securitySchemes: { bearer } },
  },
};

describe('the whole API document', () => {
  const merged = mergeOpenApiDocuments([categories, products], 'http://localhost:8080') as {
    servers: Array<{ url: string }>;
    paths: Record<string, Record<string, { tags?: string[]; operationId?: string; responses?: Record<string, { $ref: string }> }>>;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    tags: Array<{ name: string }>;
  };

  it('when services are merged, then each path moves under its ingress prefix and the server is the ingress', () => {
    expect(Object.keys(merged.paths).sort()).toEqual(['/api/categories', '/api/categories/{id}', '/api/products/{id}']);
    expect(merged.servers).toEqual([expect.objectContaining({ url: 'http://localhost:8080' })]);
  });

  it('when a path lies outside the service base path, then it is left out (the ingress does not route it)', () => {
    expect(Object.keys(merged.paths).some((p) => p.includes('log-level'))).toBe(false);
  });

  it('when a component is the same in every service, then it appears once; when it differs, then each service keeps its own', () => {
    expect(Object.keys(merged.components.schemas).sort()).toEqual(['Item', 'Problem', 'products_Item']);
    expect(merged.paths['/api/categories/{id}']!['patch']!.responses!['200']!.$ref).toBe('#/components/schemas/Item');
    expect(merged.paths['/api/products/{id}']!['get']!.responses!['200']!.$ref).toBe('#/components/schemas/products_Item');
    expect(Object.keys(merged.components.securitySchemes)).toEqual(['bearer']);
  });

  it('when operations are merged, then each carries its service tag and operation ids stay unique', () => {
    expect(merged.paths['/api/categories']!['get']!.tags).toEqual(['categories']);
    expect(merged.paths['/api/categories/{id}']!['patch']!.operationId).toBe('change');
    expect(merged.paths['/api/products/{id}']!['get']!.operationId).toBe('products_change');
    expect(merged.tags.map((t) => t.name)).toEqual(['categories', 'products']);
  });

  it('when a service has no document in its build, then it is left out rather than failing the whole document', () => {
    const document = renderAggregateOpenApi([{ appId: 'no-such-service', main: 'x.js', ingress: { prefix: '/api/x', appPath: '/x' }, database: 'x' }], '');
    expect(document['paths']).toEqual({});
    expect(apiDocumentModule({ appId: 'categories' })).toMatch(/services\/categories\/dist\/entry-points\/api\/openapi\.js$/);
  });

  it('when the platform services are rendered from their builds, then every one that publishes a document is in it', () => {
    const document = renderAggregateOpenApi(platformServices, 'http://127.0.0.1:8080') as { paths: Record<string, unknown> };
    for (const service of platformServices) {
      expect(Object.keys(document.paths).some((p) => p.startsWith(service.ingress.prefix))).toBe(true);
    }
  });

  it('when the front end is rendered with them, then its pages stay out of the API document', () => {
    const withWeb = renderAggregateOpenApi([...platformServices, ...frontEndServices], '') as { paths: Record<string, unknown> };
    const without = renderAggregateOpenApi(platformServices, '') as { paths: Record<string, unknown> };
    expect(Object.keys(withWeb.paths)).toEqual(Object.keys(without.paths));
  });
});

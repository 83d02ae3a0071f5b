import type { CategoryUseCases } from '../src/domain/category-use-cases';
import { categoryApi, categoryOperations } from '../src/entry-points/api/openapi';
import { categoryRoutes } from '../src/entry-points/api/routes';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** The routes the router really serves, as `METHOD /path/{param}`. */
function servedRoutes(): string[] {
  const router = categoryRoutes({} as CategoryUseCases, 50) as unknown as { stack: RouteLayer[] };
  return router.stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods).map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    .filter((route) => !route.endsWith('/openapi.json'));
}

describe('the categories OpenAPI document', () => {
  it('when compared with the router, then every served route is documented and nothing else', () => {
    const documented = categoryOperations.map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(servedRoutes().sort());
  });

  it('when a body is documented, then it is the schema the route parses with (slug pattern, no extra fields)', () => {
    const post = (categoryApi['paths'] as Record<string, Record<string, { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } }>>)['/categories']!['post']!;
    const schema = post.requestBody.content['application/json']!.schema as {
      properties: Record<string, { pattern?: string }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.required.sort()).toEqual(['name', 'slug']);
    expect(schema.properties['slug']?.pattern).toBe('^[a-z0-9]+(?:-[a-z0-9]+)*$');
    expect(schema.additionalProperties).toBe(false);
  });

  it('when rendered, then it is OpenAPI 3.1 with problem+json errors', () => {
    expect(categoryApi['openapi']).toBe('3.1.0');
    const get = (categoryApi['paths'] as Record<string, Record<string, { responses: Record<string, unknown> }>>)['/categories/{id}']!['get']!;
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404', '503']));
  });
});

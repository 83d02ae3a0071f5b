import type { CategoryUseCases } from '../src/domain/category-use-cases';
import { apiDocument, categoryApiDocument, categoryOperations } from '../src/entry-points/api/openapi';
import { categoryRoutes } from '../src/entry-points/api/routes';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; required?: string[] };
interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Schema;
}
interface OperationObject {
  parameters: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }>;
}

const maxPageSize = 200;
const document = categoryApiDocument(maxPageSize);
const operation = (path: string, method: string) =>
  (document['paths'] as Record<string, Record<string, OperationObject>>)[path]![method]!;

/** The routes the router really serves, as `METHOD /path/{param}`. */
function servedRoutes(): string[] {
  const router = categoryRoutes({} as CategoryUseCases, maxPageSize) as unknown as { stack: RouteLayer[] };
  return router.stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods).map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    .filter((route) => !route.endsWith('/openapi.json'));
}

describe('the categories OpenAPI document', () => {
  it('when compared with the router, then every served route is documented and nothing else', () => {
    const documented = categoryOperations(maxPageSize).map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(servedRoutes().sort());
  });

  it('when a body is documented, then it is the schema the route parses with (slug pattern, no extra fields)', () => {
    const schema = operation('/categories', 'post').requestBody!.content['application/json']!.schema;
    expect(schema.required!.sort()).toEqual(['name', 'slug']);
    expect(schema.properties!['slug']?.['pattern']).toBe('^[a-z0-9]+(?:-[a-z0-9]+)*$');
    expect(schema['additionalProperties']).toBe(false);
  });

  it('when rendered, then it is OpenAPI 3.1 with problem+json errors, served through the ingress at /api', () => {
    expect(document['openapi']).toBe('3.1.0');
    expect(document['servers']).toEqual([expect.objectContaining({ url: '/api' })]);
    expect(Object.keys(operation('/categories/{id}', 'get').responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404', '503']));
  });

  it('when a route can refuse a request for the state it finds, then that status is documented', () => {
    expect(Object.keys(operation('/categories', 'post').responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
    expect(Object.keys(operation('/categories/{id}', 'patch').responses)).toEqual(expect.arrayContaining(['200', '404', '409', '422']));
    expect(Object.keys(operation('/categories/{id}', 'delete').responses)).toEqual(expect.arrayContaining(['204', '404', '409']));
  });

  it('when a change is documented, then an empty one is refused by the document too (minProperties)', () => {
    const schema = operation('/categories/{id}', 'patch').requestBody!.content['application/json']!.schema;
    expect(schema['minProperties']).toBe(1);
  });

  it('when the list is documented, then it shows the paging convention with the enforced maximum', () => {
    const query = Object.fromEntries(operation('/categories', 'get').parameters.map((p) => [p.name, p]));
    expect(Object.keys(query).sort()).toEqual(['cursor', 'limit', 'parent', 'q', 'total']);
    expect(query['limit']!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: maxPageSize });
    expect(query['cursor']!.schema).toMatchObject({ type: 'string', format: 'page-cursor' });
    const page = operation('/categories', 'get').responses['200']!.content!['application/json']!.schema;
    expect(page.required!.sort()).toEqual(['items', 'nextCursor']);
    expect(Object.keys(page.properties!)).toEqual(['items', 'nextCursor', 'total']);
  });

  it('when a category is named in a path, then its id or its slug in any case is documented', () => {
    const id = operation('/categories/{id}', 'delete').parameters.find((p) => p.name === 'id')!;
    const pattern = new RegExp(String(id.schema['pattern']));
    expect(['laptops', 'Home-Decoration', '0b7c6a52-1c7e-4e8e-9a4b-2f1c3d4e5f60'].every((ref) => pattern.test(ref))).toBe(true);
  });

  it('when created, then the Location header is documented', () => {
    expect(Object.keys(operation('/categories', 'post').responses['201']!.headers ?? {})).toEqual(['Location']);
  });

  it('when the devstack reads the exported document, then it carries the default maximum page size', () => {
    expect(apiDocument).toEqual(categoryApiDocument(200));
  });
});

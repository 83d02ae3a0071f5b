import { servedRoutes } from '@mercato/devstack';
import type { CategoryUseCases } from '../src/domain/category-use-cases';
import { apiDocument, categoryApiDocument, categoryOperations } from '../src/entry-points/api/openapi';
import { categoryRoutes } from '../src/entry-points/api/routes';


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

describe('the categories OpenAPI document', () => {
  it('when compared with the router, then every served route is documented and nothing else', () => {
    const documented = categoryOperations(maxPageSize).map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(servedRoutes(categoryRoutes({} as CategoryUseCases, maxPageSize)).sort());
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
    expect(Object.keys(query).sort()).toEqual(['cursor', 'depth', 'limit', 'parent', 'q', 'total', 'tree']);
    expect(query['limit']!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: maxPageSize });
    expect(query['cursor']!.schema).toMatchObject({ type: 'string', format: 'page-cursor' });
    const [page] = operation('/categories', 'get').responses['200']!.content!['application/json']!.schema['anyOf'] as Schema[];
    expect(page!.required!.sort()).toEqual(['items', 'nextCursor']);
    expect(Object.keys(page!.properties!)).toEqual(['items', 'nextCursor', 'total']);
  });

  it('when the tree is documented, then its nodes are one recursive component the document itself resolves', () => {
    const [, tree] = operation('/categories', 'get').responses['200']!.content!['application/json']!.schema['anyOf'] as Schema[];
    expect(tree!.properties!['items']).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/CategoryNode' } });
    const node = (document['components'] as { schemas: Record<string, Schema> }).schemas['CategoryNode']!;
    expect(node.properties!['children']).toMatchObject({ items: { $ref: '#/components/schemas/CategoryNode' } });
    // zod's own `#/$defs/…` would resolve against the document's root, where there is none.
    expect(JSON.stringify(document)).not.toContain('$defs');
    const depth = operation('/categories', 'get').parameters.find((p) => p.name === 'depth')!;
    expect(depth.schema).toMatchObject({ type: 'integer', minimum: 0 });
  });

  it('when conditional requests are documented, then GET one takes If-None-Match, PATCH and DELETE If-Match, and entities carry an ETag', () => {
    const headerParameters = (path: string, method: string) =>
      operation(path, method).parameters.filter((p) => p.in === 'header').map((p) => p.name);
    expect(headerParameters('/categories/{id}', 'get')).toEqual(['If-None-Match']);
    expect(headerParameters('/categories/{id}', 'patch')).toEqual(['If-Match']);
    expect(headerParameters('/categories/{id}', 'delete')).toEqual(['If-Match']);
    expect(Object.keys(operation('/categories/{id}', 'get').responses)).toContain('304');
    expect(Object.keys(operation('/categories/{id}', 'patch').responses)).toContain('412');
    expect(Object.keys(operation('/categories/{id}', 'delete').responses)).toContain('412');
    expect(Object.keys(operation('/categories/{id}', 'patch').responses['200']!.headers ?? {})).toEqual(['ETag']);
    // A 204 has no entity to tag.
    expect(operation('/categories/{id}', 'delete').responses['204']!.headers).toBeUndefined();
  });

  it("when another service reads with its own identity, then the read routes admit the 'service' role and the writes do not", () => {
    const rolesOf = (method: string, path: string) => categoryOperations(maxPageSize).find((op) => op.method === method && op.path === path)!.roles;
    expect(rolesOf('get', '/categories')).toContain('service');
    expect(rolesOf('get', '/categories/{id}')).toContain('service');
    for (const [method, path] of [['post', '/categories'], ['patch', '/categories/{id}'], ['delete', '/categories/{id}']] as const) {
      expect(rolesOf(method, path)).not.toContain('service');
    }
  });

  it('when a category is named in a path, then its id or its slug in any case is documented', () => {
    const id = operation('/categories/{id}', 'delete').parameters.find((p) => p.name === 'id')!;
    const pattern = new RegExp(String(id.schema['pattern']));
    expect(['laptops', 'Home-Decoration', '0b7c6a52-1c7e-4e8e-9a4b-2f1c3d4e5f60'].every((ref) => pattern.test(ref))).toBe(true);
  });

  it('when created, then the Location and ETag headers are documented', () => {
    expect(Object.keys(operation('/categories', 'post').responses['201']!.headers ?? {})).toEqual(['Location', 'ETag']);
  });

  it('when the devstack reads the exported document, then it carries the default maximum page size', () => {
    expect(apiDocument).toEqual(categoryApiDocument(200));
  });
});

import { openApiDocument, type Operation } from '@mercato/platform';
import { categoriesConfigSchema } from '../../config';
import {
  categoryChangesSchema,
  categoryListSchema,
  categoryPageLimits,
  categoryPathSchema,
  categoryQuerySchema,
  categorySchema,
  newCategorySchema,
} from '../../domain/category-schema';

/** `service`: other services read categories with their own identity (products loads them all at start-up). */
export const readers = ['viewer', 'editor', 'admin', 'service'] as const;
export const writers = ['editor', 'admin'] as const;

/** The API as routes.ts serves it; a unit test fails if the two drift apart, the contract fuzzer if the service does. */
export function categoryOperations(maxPageSize: number): readonly Operation[] {
  return [
    {
      method: 'get', path: '/categories', summary: 'List or search categories a page at a time, or read the nested tree', roles: readers,
      query: categoryQuerySchema(categoryPageLimits(maxPageSize)),
      success: { status: 200, description: 'A page of categories sorted by slug; with `tree=true` the nested tree instead', schema: categoryListSchema },
      // 422: `tree=true` together with paging or `q`.
      problems: [422],
    },
    {
      method: 'get', path: '/categories/{id}', summary: 'Read one category by id or slug', roles: readers, params: categoryPathSchema,
      success: { status: 200, description: 'The category', schema: categorySchema }, problems: [404], conditional: 'read',
    },
    {
      method: 'post', path: '/categories', summary: 'Create a category', roles: writers, body: newCategorySchema,
      success: {
        status: 201, description: 'Created', schema: categorySchema,
        headers: { Location: 'The path of the new category, as the client called it', ETag: 'The version of the new category, for If-Match' },
      },
      // 422: the parent does not exist.
      problems: [409, 422],
    },
    {
      method: 'patch', path: '/categories/{id}', summary: 'Change or move a category (its subtree moves with it)', roles: writers,
      params: categoryPathSchema, body: categoryChangesSchema,
      success: { status: 200, description: 'The changed category', schema: categorySchema },
      // 409: slug taken, or a concurrent change; 412: If-Match is stale; 422: the new parent does not exist or is inside
      // the category.
      problems: [404, 409, 422], conditional: 'write',
    },
    {
      method: 'delete', path: '/categories/{id}', summary: 'Delete a category without sub-categories or products', roles: ['admin'],
      params: categoryPathSchema,
      // 409: it has sub-categories or products; 412: If-Match is stale; 503 also when products cannot count its products.
      success: { status: 204, description: 'Deleted' }, problems: [404, 409], conditional: 'write',
    },
  ];
}

type Json = Record<string, unknown>;

/**
 * A schema with an id (the recursive `CategoryNode`) comes out of zod with `$defs` and `#/$defs/…` references, which in
 * an OpenAPI document would resolve against the document's root: they move to `components/schemas`.
 */
function withDefinitionsAsComponents(document: Json): Json {
  const definitions: Json = {};
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Json).flatMap(([key, item]): Array<[string, unknown]> => {
      if (key === '$defs' && item && typeof item === 'object') {
        Object.assign(definitions, visit(item));
        return [];
      }
      if (key === '$ref' && typeof item === 'string') return [[key, item.replace(/^#\/\$defs\//, '#/components/schemas/')]];
      return [[key, visit(item)]];
    });
    return Object.fromEntries(entries);
  };
  const result = visit(document) as Json & { components: { schemas: Json } };
  result.components.schemas = { ...result.components.schemas, ...definitions };
  return result;
}

export function categoryApiDocument(maxPageSize: number): Record<string, unknown> {
  return withDefinitionsAsComponents(openApiDocument({
    title: 'Mercato categories',
    version: '0.2.0',
    description: 'The category tree. Every change publishes catalog.category.created|updated|deleted to the events topic.',
    operations: categoryOperations(maxPageSize),
  }));
}

/** The service's document with its default settings; the devstack merges it into the whole API's document. */
export const apiDocument = categoryApiDocument(categoriesConfigSchema.shape.MAX_PAGE_SIZE.parse(undefined));

import { openApiDocument, type Operation } from '@mercato/platform';
import { categoriesConfigSchema } from '../../config';
import {
  categoryChangesSchema,
  categoryPageLimits,
  categoryPageSchema,
  categoryPathSchema,
  categoryQuerySchema,
  categorySchema,
  newCategorySchema,
} from '../../domain/category-schema';

export const readers = ['viewer', 'editor', 'admin'] as const;
export const writers = ['editor', 'admin'] as const;

/** The API as routes.ts serves it; a unit test fails if the two drift apart, the contract fuzzer if the service does. */
export function categoryOperations(maxPageSize: number): readonly Operation[] {
  return [
    {
      method: 'get', path: '/categories', summary: 'List or search categories, a page at a time', roles: readers,
      query: categoryQuerySchema(categoryPageLimits(maxPageSize)),
      success: { status: 200, description: 'A page of categories, sorted by slug', schema: categoryPageSchema },
    },
    {
      method: 'get', path: '/categories/{id}', summary: 'Read one category by id or slug', roles: readers, params: categoryPathSchema,
      success: { status: 200, description: 'The category', schema: categorySchema }, problems: [404],
    },
    {
      method: 'post', path: '/categories', summary: 'Create a category', roles: writers, body: newCategorySchema,
      success: { status: 201, description: 'Created', schema: categorySchema, headers: { Location: 'The path of the new category, as the client called it' } },
      // 422: the parent does not exist.
      problems: [409, 422],
    },
    {
      method: 'patch', path: '/categories/{id}', summary: 'Change or move a category (its subtree moves with it)', roles: writers,
      params: categoryPathSchema, body: categoryChangesSchema,
      success: { status: 200, description: 'The changed category', schema: categorySchema },
      // 409: slug taken, or a concurrent change; 422: the new parent does not exist or is inside the category.
      problems: [404, 409, 422],
    },
    {
      method: 'delete', path: '/categories/{id}', summary: 'Delete a category without sub-categories', roles: ['admin'],
      params: categoryPathSchema,
      success: { status: 204, description: 'Deleted' }, problems: [404, 409],
    },
  ];
}

export function categoryApiDocument(maxPageSize: number): Record<string, unknown> {
  return openApiDocument({
    title: 'Mercato categories',
    version: '0.2.0',
    description: 'The category tree. Every change publishes catalog.category.created|updated|deleted to the events topic.',
    operations: categoryOperations(maxPageSize),
  });
}

/** The service's document with its default settings; the devstack merges it into the whole API's document. */
export const apiDocument = categoryApiDocument(categoriesConfigSchema.shape.MAX_PAGE_SIZE.parse(undefined));

import { openApiDocument, type Operation } from '@mercato/platform';
import {
  categoryChangesSchema,
  categoryIdSchema,
  categoryPageSchema,
  categoryQuerySchema,
  categoryRefSchema,
  categorySchema,
  newCategorySchema,
} from '../../domain/category-schema';

export const readers = ['viewer', 'editor', 'admin'] as const;
export const writers = ['editor', 'admin'] as const;

/** The API as routes.ts serves it; a unit test fails if the two drift apart. */
export const categoryOperations: readonly Operation[] = [
  {
    method: 'get', path: '/categories', summary: 'List or search categories', roles: readers, query: categoryQuerySchema,
    success: { status: 200, description: 'A page of categories, sorted by slug', schema: categoryPageSchema },
  },
  {
    method: 'get', path: '/categories/{id}', summary: 'Read one category by id or slug', roles: readers, params: categoryRefSchema,
    success: { status: 200, description: 'The category', schema: categorySchema }, problems: [404],
  },
  {
    method: 'post', path: '/categories', summary: 'Create a category', roles: writers, body: newCategorySchema,
    success: { status: 201, description: 'Created; Location points at it', schema: categorySchema }, problems: [409, 422],
  },
  {
    method: 'patch', path: '/categories/{id}', summary: 'Change or move a category (its subtree moves with it)', roles: writers,
    params: categoryIdSchema, body: categoryChangesSchema,
    success: { status: 200, description: 'The changed category', schema: categorySchema }, problems: [404, 409, 422],
  },
  {
    method: 'delete', path: '/categories/{id}', summary: 'Delete a category without sub-categories', roles: ['admin'], params: categoryIdSchema,
    success: { status: 204, description: 'Deleted' }, problems: [404, 409],
  },
];

export const categoryApi = openApiDocument({
  title: 'Mercato categories',
  version: '0.1.0',
  description: 'The category tree. Every change publishes catalog.category.created|updated|deleted to the events topic.',
  operations: categoryOperations,
});

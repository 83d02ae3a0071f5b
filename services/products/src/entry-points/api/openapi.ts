import { openApiDocument, type Operation } from '@mercato/platform';
import { z } from 'zod';
import { productsConfigSchema } from '../../config';
import { productSearchPageSchema, productSearchQuerySchema } from '../../domain/product-query-schema';
import { newProductSchema, productChangesSchema, productPathSchema, productReplacementSchema, productSchema } from '../../domain/product-schema';

export const readers = ['viewer', 'editor', 'admin', 'service'] as const;
export const writers = ['editor', 'admin'] as const;
/** The categories service asks with the user's token (an admin deleting a category) or its own. */
export const usageReaders = ['editor', 'admin', 'service'] as const;

export const categoryUsageParams = z.strictObject({ categoryId: z.uuid('must be a category id (UUID)') });
const categoryUsageSchema = z.object({ categoryId: z.uuid(), products: z.number().int().min(0) });

/** The API as routes.ts serves it; a unit test fails if the two drift apart, the contract fuzzer if the service does. */
export function productOperations(maxPageSize: number): readonly Operation[] {
  return [
    {
      method: 'get', path: '/products',
      summary: 'Search products: text (typo-tolerant), filters, facets, sort and a cursor. Besides the parameters below, '
        + '`attr.<name>=v1,v2` filters by an attribute (any of the values; several attributes must all match).',
      roles: readers, query: productSearchQuerySchema(maxPageSize),
      success: { status: 200, description: 'A page of products with the total and the facet counts', schema: productSearchPageSchema },
    },
    {
      method: 'get', path: '/products/category-usage/{categoryId}', summary: 'How many products are filed directly under a category',
      roles: usageReaders, params: categoryUsageParams,
      success: { status: 200, description: 'The count', schema: categoryUsageSchema },
    },
    {
      method: 'get', path: '/products/{id}', summary: 'Read one product by id or SKU', roles: readers, params: productPathSchema,
      success: { status: 200, description: 'The product', schema: productSchema }, problems: [404], conditional: 'read',
    },
    {
      method: 'post', path: '/products', summary: 'Create a product', roles: writers, body: newProductSchema,
      success: { status: 201, description: 'Created', schema: productSchema, headers: { Location: 'The path of the new product, as the client called it', ETag: 'The version of the product' } },
      // 409: SKU taken; 422: a category that does not exist, or a currency the catalog does not sell in.
      problems: [409, 422],
    },
    {
      method: 'put', path: '/products/{id}', summary: 'Replace a product', roles: writers, params: productPathSchema, body: productReplacementSchema,
      success: { status: 200, description: 'The product as stored', schema: productSchema }, problems: [404, 409, 422], conditional: 'write',
    },
    {
      method: 'patch', path: '/products/{id}', summary: 'Change some fields of a product', roles: writers, params: productPathSchema, body: productChangesSchema,
      success: { status: 200, description: 'The product as stored', schema: productSchema }, problems: [404, 409, 422], conditional: 'write',
    },
    {
      method: 'delete', path: '/products/{id}', summary: 'Delete a product', roles: ['admin'], params: productPathSchema,
      success: { status: 204, description: 'Deleted' }, problems: [404, 409], conditional: 'write',
    },
  ];
}

export function productApiDocument(maxPageSize: number): Record<string, unknown> {
  return openApiDocument({
    title: 'Mercato products',
    version: '0.1.0',
    description: 'Products and their search. Every change publishes catalog.product.created|updated|deleted to the events topic.',
    operations: productOperations(maxPageSize),
  });
}

/** The service's document with its default settings; the devstack merges it into the whole API's document. */
export const apiDocument = productApiDocument(productsConfigSchema.shape.MAX_PAGE_SIZE.parse(undefined));

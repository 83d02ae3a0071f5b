import { clientPath, etagOf, parseInput, principalFrom, requireRole, requiredVersion, serveConstantJson, serveLean, type Principal } from '@mercato/platform';
import { Router, type Request, type Response } from 'express';
import { cursorOf, searchQueryParser } from '../../domain/product-query-schema';
import { newProductSchema, productChangesSchema, productPathSchema, productReplacementSchema, type Product } from '../../domain/product-schema';
import type { ProductUseCases, Viewer } from '../../domain/product-use-cases';
import { categoryUsageParams, productApiDocument, readers, usageReaders, writers } from './openapi';

const viewerOf = (principal: Principal): Viewer => ({
  subject: principal.subject,
  seesUnpublished: principal.roles.has('editor') || principal.roles.has('admin'),
});

/** A product with its ETag: the version clients send back in If-Match. */
const sendProduct = (res: Response, product: Product, status = 200) => res.status(status).setHeader('etag', etagOf(product.version)).json(product);

const ifMatch = (req: Request) => requiredVersion(req.header('if-match'));

/** HTTP in, parsed input to the use case, JSON out. No request or response object goes past this file. */
export function productRoutes(useCases: ProductUseCases, maxPageSize: number): Router {
  const router = Router();
  const document = JSON.stringify(productApiDocument(maxPageSize));
  const parseSearchQuery = searchQueryParser(maxPageSize);

  // The search is a GET without a body too, and the busiest route after the detail: lean as well (lean-routes.ts).
  serveLean(router, {
    method: 'get', path: '/products', roles: readers,
    answer({ query, principal }) {
      const parsed = parseSearchQuery(query as Record<string, unknown>);
      const { items, total, next, facets } = useCases.search(parsed, viewerOf(principal));
      return { body: { items, total, nextCursor: cursorOf(next, parsed), facets } };
    },
  });

  // Registered before /products/:id; a SKU of "OPENAPI.JSON" is therefore reachable by its id only.
  serveConstantJson(router, '/products/openapi.json', readers, document);

  router.get('/products/category-usage/:categoryId', requireRole(...usageReaders), async (req, res) => {
    const { categoryId } = parseInput(categoryUsageParams, req.params, 'params');
    res.json({ categoryId, products: await useCases.countInCategory(categoryId) });
  });

  // The hottest read (a cached detail): lean, answered without Express when it can be (lean-routes.ts).
  serveLean(router, {
    method: 'get', path: '/products/:id', roles: readers,
    async answer({ params, principal }) {
      const { id } = parseInput(productPathSchema, params, 'params');
      const product = await useCases.get(id, viewerOf(principal));
      return { body: product, version: product.version };
    },
  });

  router.post('/products', requireRole(...writers), async (req, res) => {
    const input = parseInput(newProductSchema, req.body, 'body');
    const product = await useCases.create(input, principalFrom(req).subject);
    res.location(clientPath(req, `/products/${product.id}`));
    sendProduct(res, product, 201);
  });

  router.put('/products/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseInput(productPathSchema, req.params, 'params');
    const version = ifMatch(req);
    const replacement = parseInput(productReplacementSchema, req.body, 'body');
    sendProduct(res, await useCases.replace(id, replacement, principalFrom(req).subject, version));
  });

  router.patch('/products/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseInput(productPathSchema, req.params, 'params');
    const version = ifMatch(req);
    const changes = parseInput(productChangesSchema, req.body, 'body');
    sendProduct(res, await useCases.update(id, changes, principalFrom(req).subject, version));
  });

  router.delete('/products/:id', requireRole('admin'), async (req, res) => {
    const { id } = parseInput(productPathSchema, req.params, 'params');
    await useCases.remove(id, principalFrom(req).subject, ifMatch(req));
    res.status(204).end();
  });

  return router;
}

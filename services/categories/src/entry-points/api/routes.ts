import { clientPath, etagOf, parseInput, principalFrom, requiredVersion, requireRole, serveConstantJson, serveLean } from '@mercato/platform';
import { Router, type Response } from 'express';
import {
  categoryChangesSchema,
  categoryPageLimits,
  categoryPathSchema,
  categoryQuerySchema,
  newCategorySchema,
} from '../../domain/category-schema';
import type { CategoryUseCases } from '../../domain/category-use-cases';
import { categoryApiDocument, readers, writers } from './openapi';

/** Answers one category with its version as the ETag, so the client can send it back in If-Match. */
const sendCategory = (res: Response, category: { version: number }) => res.set('ETag', etagOf(category.version)).json(category);

/** HTTP in, parsed input to the use case, JSON out. No request or response object goes past this file. */
export function categoryRoutes(useCases: CategoryUseCases, maxPageSize: number): Router {
  const router = Router();
  const querySchema = categoryQuerySchema(categoryPageLimits(maxPageSize));
  const document = JSON.stringify(categoryApiDocument(maxPageSize));

  router.get('/categories', requireRole(...readers), async (req, res) => {
    const query = parseInput(querySchema, req.query, 'query');
    res.json(await useCases.list(query));
  });

  // Registered before /categories/:id; a slug cannot contain a dot, so no category can shadow it.
  serveConstantJson(router, '/categories/openapi.json', readers, document);

  // Every route that names a category takes its id or its slug (lower-cased by the schema).
  // Lean: answered without Express when it can be (lean-routes.ts); its version is the ETag, and 304 to If-None-Match.
  serveLean(router, {
    method: 'get', path: '/categories/:id', roles: readers,
    async answer({ params }) {
      const { id } = parseInput(categoryPathSchema, params, 'params');
      const category = await useCases.get(id);
      return { body: category, version: category.version };
    },
  });

  router.post('/categories', requireRole(...writers), async (req, res) => {
    const input = parseInput(newCategorySchema, req.body, 'body');
    const category = await useCases.create(input, principalFrom(req).subject);
    sendCategory(res.status(201).location(clientPath(req, `/categories/${category.id}`)), category);
  });

  router.patch('/categories/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseInput(categoryPathSchema, req.params, 'params');
    const changes = parseInput(categoryChangesSchema, req.body, 'body');
    const required = requiredVersion(req.header('if-match'));
    sendCategory(res, await useCases.update(id, changes, principalFrom(req).subject, required));
  });

  router.delete('/categories/:id', requireRole('admin'), async (req, res) => {
    const { id } = parseInput(categoryPathSchema, req.params, 'params');
    await useCases.remove(id, principalFrom(req).subject, requiredVersion(req.header('if-match')));
    res.status(204).end();
  });

  return router;
}

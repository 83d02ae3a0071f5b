import { clientPath, parseInput, principalFrom, requireRole } from '@mercato/platform';
import { Router } from 'express';
import {
  categoryChangesSchema,
  categoryPageLimits,
  categoryPathSchema,
  categoryQuerySchema,
  newCategorySchema,
} from '../../domain/category-schema';
import type { CategoryUseCases } from '../../domain/category-use-cases';
import { categoryApiDocument, readers, writers } from './openapi';

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
  router.get('/categories/openapi.json', requireRole(...readers), (_req, res) => {
    res.type('application/json').send(document);
  });

  // Every route that names a category takes its id or its slug (lower-cased by the schema).
  router.get('/categories/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseInput(categoryPathSchema, req.params, 'params');
    res.json(await useCases.get(id));
  });

  router.post('/categories', requireRole(...writers), async (req, res) => {
    const input = parseInput(newCategorySchema, req.body, 'body');
    const category = await useCases.create(input, principalFrom(req).subject);
    res.status(201).location(clientPath(req, `/categories/${category.id}`)).json(category);
  });

  router.patch('/categories/:id', requireRole(...writers), async (req, res) => {
    const { id } = parseInput(categoryPathSchema, req.params, 'params');
    const changes = parseInput(categoryChangesSchema, req.body, 'body');
    res.json(await useCases.update(id, changes, principalFrom(req).subject));
  });

  router.delete('/categories/:id', requireRole('admin'), async (req, res) => {
    const { id } = parseInput(categoryPathSchema, req.params, 'params');
    await useCases.remove(id, principalFrom(req).subject);
    res.status(204).end();
  });

  return router;
}

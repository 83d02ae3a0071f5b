import { clientPath, parseInput, requireRole, serveConstantJson, serveLean } from '@mercato/platform';
import { Router } from 'express';
import { nextQuerySchema, sequencePathSchema, sequenceSettingsSchema } from '../../domain/sequence-schema';
import type { SequenceUseCases } from '../../domain/sequence-use-cases';
import { callers, sequenceApiDocument, type SequenceLimits } from './openapi';

/** HTTP in, parsed input to the use case, JSON out. No request or response object goes past this file. */
export function sequenceRoutes(useCases: SequenceUseCases, limits: SequenceLimits): Router {
  const router = Router();
  const querySchema = nextQuerySchema(limits.maxCount);
  const settingsSchema = sequenceSettingsSchema(limits.maxBlockSize);
  const document = JSON.stringify(sequenceApiDocument(limits));

  // Registered before /sequences/:name; a sequence name cannot contain a dot, so none can shadow it.
  serveConstantJson(router, '/sequences/openapi.json', [...callers, 'viewer'], document);

  // The hottest route of the platform: lean (answered without Express when it has no body, lean-routes.ts).
  serveLean(router, {
    method: 'post', path: '/sequences/:name/next', roles: callers,
    async answer({ params, query }) {
      const { name } = parseInput(sequencePathSchema, params, 'params');
      const { count } = parseInput(querySchema, query, 'query');
      const values = await useCases.next(name, count ?? 1);
      return { body: count === undefined ? { name, value: values[0] } : { name, values } };
    },
  });

  serveLean(router, {
    method: 'get', path: '/sequences/:name', roles: callers,
    async answer({ params }) {
      const { name } = parseInput(sequencePathSchema, params, 'params');
      return { body: await useCases.get(name) };
    },
  });

  router.put('/sequences/:name', requireRole('admin'), async (req, res) => {
    const { name } = parseInput(sequencePathSchema, req.params, 'params');
    const settings = parseInput(settingsSchema, req.body, 'body');
    const { sequence, created } = await useCases.configure(name, settings);
    if (created) res.status(201).location(clientPath(req, `/sequences/${name}`));
    res.json(sequence);
  });

  return router;
}

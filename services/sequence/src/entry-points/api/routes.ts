import { clientPath, constantJson, parseInput, requireRole } from '@mercato/platform';
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
  router.get('/sequences/openapi.json', requireRole(...callers, 'viewer'), constantJson(document));

  router.post('/sequences/:name/next', requireRole(...callers), async (req, res) => {
    const { name } = parseInput(sequencePathSchema, req.params, 'params');
    const { count } = parseInput(querySchema, req.query, 'query');
    const values = await useCases.next(name, count ?? 1);
    res.json(count === undefined ? { name, value: values[0] } : { name, values });
  });

  router.get('/sequences/:name', requireRole(...callers), async (req, res) => {
    const { name } = parseInput(sequencePathSchema, req.params, 'params');
    res.json(await useCases.get(name));
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

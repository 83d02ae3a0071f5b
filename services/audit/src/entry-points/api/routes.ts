import { actorOf, clientPath, pageRequestOf, parseInput, principalFrom, requestContext, requireRole, serveConstantJson } from '@mercato/platform';
import { Router } from 'express';
import type { AuditUseCases } from '../../domain/audit-use-cases';
import { eventPathSchema, eventQuerySchema, schemaPathSchema, verifyQuerySchema } from '../../domain/audit-query-schema';
import { auditApiDocument, jsonSchemaBody, producers, readers, type AuditApiLimits } from './openapi';

/** HTTP in, parsed input to the use case, JSON out. No request or response object goes past this file. */
export function auditRoutes(useCases: AuditUseCases, limits: AuditApiLimits): Router {
  const router = Router();
  const document = JSON.stringify(auditApiDocument(limits));

  serveConstantJson(router, '/audit/openapi.json', [...readers, ...producers], document);

  router.post('/audit/events', requireRole(...producers), async (req, res) => {
    res.status(202).json(await useCases.ingest(req.body, requestContext.getStore()?.traceId));
  });

  router.get('/audit/events', requireRole(...readers), async (req, res) => {
    const { cursor, limit, total, ...query } = parseInput(eventQuerySchema, req.query, 'query');
    const page = pageRequestOf({ cursor, limit, total }, 2);
    res.json(await useCases.list(query, page, actorOf(principalFrom(req))));
  });

  router.get('/audit/events/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseInput(eventPathSchema, req.params, 'params');
    res.json(await useCases.get(id, actorOf(principalFrom(req))));
  });

  router.get('/audit/chains', requireRole(...readers), async (req, res) => {
    res.json({ items: await useCases.chains(actorOf(principalFrom(req))) });
  });

  router.get('/audit/verify', requireRole(...readers), async (req, res) => {
    const { chain, from, to } = parseInput(verifyQuerySchema, req.query, 'query');
    const chains = await useCases.verify(chain, from, to, actorOf(principalFrom(req)));
    res.json({ ok: chains.every((report) => report.ok), chains });
  });

  router.put('/audit/schemas/:type', requireRole('admin'), async (req, res) => {
    const { type } = parseInput(schemaPathSchema, req.params, 'params');
    const schema = parseInput(jsonSchemaBody, req.body, 'body');
    const registered = await useCases.registerSchema(type, schema, principalFrom(req).subject);
    if (registered.created) res.status(201).location(clientPath(req, `/audit/schemas/${type}`));
    res.json(registered.schema);
  });

  router.get('/audit/schemas/:type', requireRole(...readers, 'service'), async (req, res) => {
    const { type } = parseInput(schemaPathSchema, req.params, 'params');
    res.json(await useCases.schemaOf(type));
  });

  return router;
}

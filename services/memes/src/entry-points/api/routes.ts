import { clientPath, parseInput, principalFrom, requireRole, serveConstantJson, type Principal } from '@mercato/platform';
import { Router } from 'express';
import { memeSearchQuerySchema, newMemeSchema } from '../../domain/meme-schema';
import type { MemeUseCases, Searcher } from '../../domain/meme-use-cases';
import { aiQuerySchema, importBodySchema, memeApiDocument, memePathSchema, readers } from './openapi';

/** The premium entitlement is a role in the access token daprd already verified: checking it costs no call. */
const searcherOf = (principal: Principal): Searcher => ({ subject: principal.subject, premium: principal.roles.has('premium') });

/** HTTP in, parsed input to the use case, JSON out. No request or response object goes past this file. */
export function memeRoutes(useCases: MemeUseCases, importMax: number): Router {
  const router = Router();
  const importBody = importBodySchema(importMax);

  serveConstantJson(router, '/memes/openapi.json', [...readers, 'service'], JSON.stringify(memeApiDocument(importMax)));

  router.get('/memes', requireRole(...readers), async (req, res) => {
    const query = parseInput(memeSearchQuerySchema, req.query, 'query');
    res.json(await useCases.search(query, searcherOf(principalFrom(req))));
  });

  router.get('/memes/ai', requireRole('premium'), (req, res) => {
    const { base, count } = parseInput(aiQuerySchema, req.query, 'query');
    res.json({ items: useCases.generate(base, count) });
  });

  router.get('/memes/stats/me', requireRole(...readers), async (req, res) => {
    res.json(await useCases.stats(principalFrom(req).subject));
  });

  router.get('/memes/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseInput(memePathSchema, req.params, 'params');
    res.json(await useCases.get(id));
  });

  router.post('/memes', requireRole('editor', 'admin'), async (req, res) => {
    const meme = await useCases.create(parseInput(newMemeSchema, req.body, 'body'));
    res.status(201).location(clientPath(req, `/memes/${meme.id}`)).json(meme);
  });

  router.post('/memes/import', requireRole('admin'), async (req, res) => {
    res.json(await useCases.importCorpus(parseInput(importBody, req.body, 'body')));
  });

  return router;
}

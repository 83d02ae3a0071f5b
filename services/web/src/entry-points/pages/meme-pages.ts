import { AppError } from '@mercato/platform';
import { Router } from 'express';
import type { PlatformApi } from '../../data-access/platform-api';
import { pickFilled } from '../../domain/query-form';
import { problemViewOf } from '../../domain/problem-view';
import { requireSignIn } from './guards';
import type { Pages } from './render';

/** Meme search by text (optionally fuzzy) and place; premium accounts see generated memes, marked as such. */
export function memePages(api: PlatformApi, pages: Pages): Router {
  const router = Router();
  router.get('/memes', requireSignIn, async (req, res) => {
    const form = pickFilled(req.query as Record<string, unknown>, ['query', 'fuzzy', 'lat', 'lon', 'radiusKm', 'cursor']);
    let results;
    let problem;
    if (Object.keys(form).length > 0) {
      try {
        results = (await api.get('memes', '/memes', { ...form, limit: 20 })).body;
      } catch (error) {
        if (!(error instanceof AppError) || ![400, 429].includes(error.status)) throw error;
        problem = problemViewOf(error);
        if (error.retryAfterSeconds) res.setHeader('retry-after', String(error.retryAfterSeconds));
      }
    }
    pages.send(res, problem?.status === 429 ? 429 : 200, 'memes/search', { title: 'Memes', form, results, problem });
  });
  return router;
}

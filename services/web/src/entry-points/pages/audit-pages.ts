import { AppError } from '@mercato/platform';
import { Router } from 'express';
import type { PlatformApi } from '../../data-access/platform-api';
import { pickFilled } from '../../domain/query-form';
import { problemViewOf } from '../../domain/problem-view';
import { requireAbility, requireSignIn } from './guards';
import type { Pages } from './render';

const filters = ['type', 'source', 'subject', 'actor', 'q', 'from', 'to', 'cursor'] as const;

/** The audit log for auditors: filtered list, one event's detail, and verification of the hash chains. */
export function auditPages(api: PlatformApi, pages: Pages): Router {
  const router = Router();
  router.use('/audit', requireSignIn, requireAbility('canAudit', 'read the audit log'));

  router.get('/audit', async (req, res) => {
    const form = pickFilled(req.query as Record<string, unknown>, filters);
    let problem;
    let results;
    try {
      results = (await api.get('audit', '/audit/events', { ...toApiTimes(form), limit: 25, total: true })).body;
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      problem = problemViewOf(error);
    }
    pages.send(res, 200, 'audit/log', { title: 'Audit log', form, results, problem });
  });

  // By query, not path: a producer's event id may hold characters that a path segment cannot carry through the ingress.
  router.get('/audit/event', async (req, res) => {
    const id = typeof req.query['id'] === 'string' ? req.query['id'] : '';
    // An id no event can have (the audit service documents ids without #, %, ?, / and control characters, which no
    // path segment can carry) is a 404 here rather than a call its sidecar would fail.
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
    if (!id || id.length > 200 || /[#%?/\u0000-\u001f\u007f]/.test(id)) throw new AppError('not-found', { detail: 'There is no such event; open one from the log.' });
    const { body: event } = await api.get<Record<string, unknown>>('audit', `/audit/events/${encodeURIComponent(id)}`);
    pages.send(res, 200, 'audit/event', { title: `Event ${id}`, event, data: JSON.stringify(event['data'], null, 2) });
  });

  router.get('/audit/verify', async (_req, res) => {
    const { body: report } = await api.get('audit', '/audit/verify');
    pages.send(res, 200, 'audit/verify', { title: 'Chain verification', report });
  });
  return router;
}

/** The form's `datetime-local` values are local times without a zone; the API takes ISO 8601 instants. */
function toApiTimes(form: Record<string, string>): Record<string, string> {
  const query = { ...form };
  for (const key of ['from', 'to'] as const) {
    const value = form[key];
    if (value && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) query[key] = `${value.length === 16 ? `${value}:00` : value}Z`;
  }
  return query;
}

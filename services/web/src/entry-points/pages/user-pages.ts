import { AppError } from '@mercato/platform';
import { Router } from 'express';
import type { PlatformApi } from '../../data-access/platform-api';
import { pickFilled } from '../../domain/query-form';
import { problemViewOf } from '../../domain/problem-view';
import { requireAbility, requireSignIn, routeId } from './guards';
import type { Pages } from './render';

interface User { id: string; email: string; name: string; status: 'active' | 'deactivated'; customerNumber: number; login: { username: string } | null; version: number }

/** Everyone: their profile and their stats. Admins: the user list with paging, a user's detail, (de)activation. */
export function userPages(api: PlatformApi, pages: Pages): Router {
  const router = Router();

  router.get('/me', requireSignIn, async (_req, res) => {
    const [{ body: user }, { body: stats }] = await Promise.all([api.get<User>('users', '/users/me'), api.get<Record<string, unknown>>('users', '/users/me/stats')]);
    pages.send(res, 200, 'users/profile', { title: 'My profile', user, stats, own: true });
  });

  router.use('/users', requireSignIn, requireAbility('canAdminister', 'manage users'));

  router.get('/users', async (req, res) => {
    const form = pickFilled(req.query as Record<string, unknown>, ['page', 'status', 'email', 'name']);
    let problem;
    let results;
    try {
      results = (await api.get<{ items: User[]; total: number; page: number }>('users', '/users', { ...form, page: form['page'] ?? '1', limit: 20, sort: 'createdAt', order: 'desc' })).body;
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      problem = problemViewOf(error);
    }
    const page = Number(form['page'] ?? 1);
    const pageCount = results ? Math.max(1, Math.ceil(results.total / 20)) : 1;
    pages.send(res, 200, 'users/list', { title: 'Users', form, results, problem, page, pageCount });
  });

  router.get('/users/:id', async (req, res) => {
    const id = routeId(req);
    const [{ body: user }, { body: stats }] = await Promise.all([api.get<User>('users', `/users/${id}`), api.get<Record<string, unknown>>('users', `/users/${id}/stats`)]);
    pages.send(res, 200, 'users/profile', { title: user.name, user, stats, own: false, changed: req.query['changed'] });
  });

  for (const action of ['deactivate', 'reactivate'] as const) {
    router.post(`/users/:id/${action}`, async (req, res) => {
      const id = routeId(req);
      await api.send('POST', 'users', `/users/${id}/${action}`);
      res.redirect(303, `/users/${encodeURIComponent(id)}?changed=${action}d`);
    });
  }
  return router;
}

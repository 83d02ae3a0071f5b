import { AppError, claimsOf, clientPath, etagOf, isNotModified, parseInput, principalFrom, requiredVersion, requireRole, serveConstantJson, type Principal } from '@mercato/platform';
import { Router, type Request, type Response } from 'express';
import type { Caller, UserUseCases } from '../../domain/user-use-cases';
import {
  identitySchema,
  newUserSchema,
  userChangesSchema,
  userListQuerySchema,
  userPathSchema,
  userReplacementSchema,
  type User,
} from '../../domain/user-schema';
import { apiDocument, people } from './openapi';

/** The caller as the use cases know them: the identity their token names (its issuer and subject) and its profile claims. */
function callerOf(principal: Principal, issuer: string): Caller {
  const claims = (claimsOf(principal.authorization) ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  return {
    identity: { issuer: text(claims['iss']) ?? issuer, subject: principal.subject },
    isAdmin: principal.roles.has('admin'),
    profile: { email: text(claims['email']), emailVerified: claims['email_verified'] === true, name: text(claims['name']) ?? principal.username },
  };
}

const sendUser = (req: Request, res: Response, user: User, status = 200) => {
  res.setHeader('etag', etagOf(user.version));
  if (status === 200 && req.method === 'GET' && isNotModified(req.header('if-none-match'), user.version)) {
    res.status(304).end();
    return;
  }
  res.status(status).json(user);
};

/** HTTP in, parsed input to the use case, JSON out. No request or response object goes past this file. */
export function userRoutes(useCases: UserUseCases, issuer: string): Router {
  const router = Router();
  const caller = (req: Request) => callerOf(principalFrom(req), issuer);
  const ifMatch = (req: Request) => requiredVersion(req.header('if-match'));
  const id = (req: Request) => parseInput(userPathSchema, req.params, 'params').id;

  serveConstantJson(router, '/users/openapi.json', [...people, 'service'], JSON.stringify(apiDocument));

  router.get('/users/me', requireRole(...people), async (req, res) => sendUser(req, res, await useCases.me(caller(req))));
  // `me` is no id: without this, PUT /users/me would reach PUT /users/{id} and be refused as a malformed id (400)
  // instead of as a method this path does not serve (405).
  router.all('/users/me', (_req, res, next) => {
    res.setHeader('allow', 'GET, HEAD');
    next(new AppError('method-not-allowed', { detail: 'Only GET is served on /users/me; change your profile at /users/{id}' }));
  });

  router.get('/users/me/stats', requireRole(...people), async (req, res) => {
    res.json(await useCases.myStats(caller(req)));
  });

  router.get('/users/:id/stats', requireRole('admin'), async (req, res) => {
    res.json(await useCases.statsOf(id(req)));
  });

  router.get('/users', requireRole('admin'), async (req, res) => {
    res.json(await useCases.list(parseInput(userListQuerySchema, req.query, 'query')));
  });

  router.post('/users', requireRole('admin'), async (req, res) => {
    const user = await useCases.create(parseInput(newUserSchema, req.body, 'body'), principalFrom(req).subject);
    res.location(clientPath(req, `/users/${user.id}`));
    sendUser(req, res, user, 201);
  });

  router.get('/users/:id', requireRole(...people), async (req, res) => sendUser(req, res, await useCases.get(id(req), caller(req))));

  router.put('/users/:id', requireRole(...people), async (req, res) => {
    const target = id(req);
    const version = ifMatch(req);
    sendUser(req, res, await useCases.update(target, parseInput(userReplacementSchema, req.body, 'body'), caller(req), version));
  });

  router.patch('/users/:id', requireRole(...people), async (req, res) => {
    const target = id(req);
    const version = ifMatch(req);
    sendUser(req, res, await useCases.update(target, parseInput(userChangesSchema, req.body, 'body'), caller(req), version));
  });

  router.delete('/users/:id', requireRole('admin'), async (req, res) => {
    const target = id(req);
    await useCases.remove(target, principalFrom(req).subject, ifMatch(req));
    res.status(204).end();
  });

  router.post('/users/:id/identities', requireRole('admin', 'service'), async (req, res) => {
    const target = id(req);
    sendUser(req, res, await useCases.linkIdentity(target, parseInput(identitySchema, req.body, 'body'), principalFrom(req).subject));
  });

  router.post('/users/:id/deactivate', requireRole('admin'), async (req, res) => {
    sendUser(req, res, await useCases.setStatus(id(req), 'deactivated', principalFrom(req).subject));
  });

  router.post('/users/:id/reactivate', requireRole('admin'), async (req, res) => {
    sendUser(req, res, await useCases.setStatus(id(req), 'active', principalFrom(req).subject));
  });

  return router;
}

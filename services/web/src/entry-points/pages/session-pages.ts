import { Router } from 'express';
// Its declarations add `res.oidc` (the middleware itself is mounted in entry-points/app.ts).
import type {} from 'express-openid-connect';
import { safeReturnTo } from '../../domain/return-to';
import type { Pages } from './render';

/**
 * Sign-in and sign-out, this app's own rather than express-openid-connect's: sign-in checks `returnTo` (no open
 * redirect), sign-out is a CSRF-checked POST that also ends the Keycloak session (`idpLogout`, entry-points/app.ts).
 */
export function sessionPages(pages: Pages): Router {
  const router = Router();
  router.get('/login', (req, res) => res.oidc.login({ returnTo: safeReturnTo(req.query['returnTo']) }));
  router.post('/logout', (_req, res) => res.oidc.logout({ returnTo: '/signed-out' }));
  router.get('/signed-out', (_req, res) => pages.send(res, 200, 'signed-out', { title: 'Signed out' }));
  return router;
}

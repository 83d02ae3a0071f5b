import { constantJson } from '@mercato/platform';
import { Router } from 'express';
import { apiDocument } from './openapi';

/** The web's own document at `/openapi.json`, readable without signing in like the API's `/api/openapi.json`. */
export function webApiRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', constantJson(JSON.stringify(apiDocument)));
  return router;
}

import { constantJson } from '@mercato/platform';
import { Router } from 'express';
import { apiDocument } from './openapi';

/** The actor's contract, at `/activity/openapi.json`: reached like the actor, through Dapr only (no ingress route). */
export function activityApiRoutes(): Router {
  const router = Router();
  router.get('/activity/openapi.json', constantJson(JSON.stringify(apiDocument)));
  return router;
}

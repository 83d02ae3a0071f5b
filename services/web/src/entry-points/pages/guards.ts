import { AppError } from '@mercato/platform';
import type { NextFunction, Request, Response } from 'express';
import type { Viewer } from '../../domain/viewer';

export const viewerOfResponse = (res: Response): Viewer => res.locals['viewer'] as Viewer;

/** Pages that need a person: anyone not signed in goes to sign-in, and comes back here afterwards. */
export function requireSignIn(req: Request, res: Response, next: NextFunction): void {
  if (viewerOfResponse(res).signedIn) {
    next();
    return;
  }
  res.redirect(303, `/login?returnTo=${encodeURIComponent(req.originalUrl)}`);
}

/**
 * A page only some roles may use answers 403 to the others before it calls anything. The services check the same
 * roles on every call; this only spares a person a form they could never send.
 */
export const requireAbility = (ability: keyof Pick<Viewer, 'canEdit' | 'canAdminister' | 'canAudit'>, what: string) =>
  (_req: Request, res: Response, next: NextFunction): void => {
    next(viewerOfResponse(res)[ability] ? undefined : new AppError('forbidden', { detail: `Your account may not ${what}.` }));
  };

/** Route parameters the services take as ids: anything else is a 404 here, never a call. */
export const idPattern = /^[A-Za-z0-9-]{1,64}$/;

export function routeId(req: Request, name = 'id'): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !idPattern.test(value)) throw new AppError('not-found', { detail: 'There is no such page.' });
  return value;
}

import path from 'node:path';
import { Eta } from 'eta';
import type { Response } from 'express';
import { anonymous, type Viewer } from '../../domain/viewer';
import { csrfFieldName } from '../cookies';

/** What every page's layout reads beside the page's own data. */
export interface PageFrame {
  title: string;
  viewer: Viewer;
  csrfToken: string;
  csrfField: string;
  currentPath: string;
}

export interface Pages {
  /** Renders `views/<view>.eta` in the layout, HTML-escaped throughout (Eta's autoEscape), with the status given. */
  send(res: Response, status: number, view: string, data: { title: string } & Record<string, unknown>): void;
}

export function createPages(viewsDir = path.join(__dirname, '..', '..', '..', 'views')): Pages {
  // autoEscape: every `<%= %>` is escaped; the templates use `<%~ %>` (raw) only for the layout's page body.
  const eta = new Eta({ views: viewsDir, cache: true, autoEscape: true, autoTrim: [false, 'nl'] });
  return {
    send(res, status, view, data) {
      const frame: PageFrame = {
        title: data.title,
        viewer: (res.locals['viewer'] as Viewer | undefined) ?? anonymous,
        csrfToken: String(res.locals['csrfToken'] ?? ''),
        csrfField: csrfFieldName,
        currentPath: String(res.locals['currentPath'] ?? '/'),
      };
      const html = eta.render(`./${view}`, { ...frame, ...data });
      res.status(status);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.end(html);
    },
  };
}

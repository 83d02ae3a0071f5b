import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from './errors';

/**
 * One paging convention for every list in the platform (documented in docs/adding-a-service.md):
 * `?cursor=&limit=&total=true` in, `{ items, nextCursor, total? }` out.
 *
 * - Keyset paging: a cursor names the sort key of the last item served, and the next page starts strictly after it.
 *   Items added or removed between two pages never shift the others (no duplicates, no skips of existing items),
 *   unlike `skip`, and the cost of a page does not grow with its depth.
 * - The cursor is opaque to clients (base64url of a small JSON document with a checksum). It is not a secret — it
 *   holds nothing a client could not ask for — but an edited, truncated or foreign cursor is a 400 naming
 *   `query.cursor` instead of a page that silently starts somewhere else.
 * - `limit` is bounded; a limit over the maximum is a 400 naming the maximum, never silently cut.
 * - `total` costs a count over the whole filter (a full scan on FerretDB for anything but equality filters), so it is
 *   computed only when the client asks with `total=true`.
 */
export interface PageLimits {
  /** Page size when the client names none. */
  defaultLimit: number;
  /** Largest page a client may ask for. */
  maxLimit: number;
}

/** What a route hands its use case: the parsed paging part of the query. */
export interface PageRequest {
  /** Sort key values of the last item of the previous page; undefined for the first page. */
  after: readonly CursorValue[] | undefined;
  limit: number;
  withTotal: boolean;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
  total?: number;
}

export type CursorValue = string | number | boolean | null;

const cursorVersion = 1;
const checksumOf = (after: readonly CursorValue[]) =>
  createHash('sha256').update(`mercato-cursor:${cursorVersion}:${JSON.stringify(after)}`).digest('base64url').slice(0, 16);

const cursorPayloadSchema = z.strictObject({
  v: z.literal(cursorVersion),
  after: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).min(1).max(8),
  sum: z.string(),
});

/** Encodes the sort key values of the last item served into an opaque cursor. */
export function encodeCursor(after: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify({ v: cursorVersion, after, sum: checksumOf(after) })).toString('base64url');
}

const badCursor = (message: string) =>
  new AppError('validation', {
    code: 'invalid-cursor',
    detail: 'The cursor is not one this service issued; start again without a cursor',
    issues: [{ path: 'query.cursor', message }],
  });

/**
 * Decodes a cursor from `encodeCursor`; `arity` is how many sort key values the list's cursors carry, so a cursor of
 * another list is refused too.
 */
export function decodeCursor(cursor: string, arity: number): CursorValue[] {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor('must be a cursor returned as nextCursor (base64url)');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('is malformed');
  }
  const parsed = cursorPayloadSchema.safeParse(payload);
  if (!parsed.success || parsed.data.after.length !== arity) throw badCursor('is malformed');
  if (parsed.data.sum !== checksumOf(parsed.data.after)) throw badCursor('has been altered');
  return parsed.data.after;
}

/**
 * The paging part of a list's query schema; spread it into the list's own `z.strictObject({...})` so the document
 * shows the same bounds the route enforces.
 */
export function pageQueryShape(limits: PageLimits) {
  return {
    cursor: z
      .string()
      .max(512)
      .meta({ format: pageCursorFormat, description: 'Opaque: the `nextCursor` of the previous page. Omit it (or send it empty) for the first page.' })
      .optional(),
    limit: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(limits.maxLimit, `must be at most ${limits.maxLimit}`)
      .default(limits.defaultLimit)
      .meta({ description: `Page size, 1 to ${limits.maxLimit} (default ${limits.defaultLimit}); larger is refused, not cut.` }),
    total: z
      .enum(['true', 'false'])
      .optional()
      .meta({ description: 'With `true`, the page also carries `total`, the number of matching items (costs a count).' }),
  };
}

/** The `format` of every cursor parameter, so tools (the API fuzzer) can tell cursors from free text. */
export const pageCursorFormat = 'page-cursor';

/** Turns the parsed paging fields into a request; `arity` as for `decodeCursor`. */
export function pageRequestOf(
  query: { cursor?: string | undefined; limit: number; total?: 'true' | 'false' | undefined },
  arity: number,
): PageRequest {
  return {
    after: query.cursor ? decodeCursor(query.cursor, arity) : undefined,
    limit: query.limit,
    withTotal: query.total === 'true',
  };
}

/**
 * Builds a page from `limit + 1` items read in sort order: the extra item only proves there is a next page.
 * `keyOf` returns the sort key values of an item, which the next page starts after.
 */
export function pageOf<T>(
  fetched: readonly T[],
  request: PageRequest,
  keyOf: (item: T) => CursorValue[],
  total?: number,
): Page<T> {
  const items = fetched.slice(0, request.limit);
  const last = items.at(-1);
  const page: Page<T> = {
    items,
    nextCursor: fetched.length > request.limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
  if (total !== undefined) page.total = total;
  return page;
}

/** The response schema of a list, for its OpenAPI document. */
export function pageSchema<S extends z.ZodType>(item: S) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
    total: z.number().int().min(0).optional().describe('Number of matching items; present only when asked with `total=true`'),
  });
}

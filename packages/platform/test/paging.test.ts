import { z } from 'zod';
import type { AppError } from '../src/errors';
import { decodeCursor, encodeCursor, pageOf, pageQueryShape, pageRequestOf } from '../src/paging';
import { parseInput } from '../src/validation';

const refusal = (run: () => unknown): AppError => {
  try {
    run();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
};

describe('paging', () => {
  it('when a cursor is encoded and decoded, then the same sort key comes back', () => {
    expect(decodeCursor(encodeCursor(['laptops']), 1)).toEqual(['laptops']);
    expect(encodeCursor(['laptops'])).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['another shape', Buffer.from(JSON.stringify({ after: 'x' })).toString('base64url')],
  ])('when the cursor is %s, then 400 naming query.cursor', (_label, cursor) => {
    const error = refusal(() => decodeCursor(cursor, 1));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid-cursor');
    expect(error.issues?.[0]?.path).toBe('query.cursor');
  });

  it('when a cursor was edited, then it is refused as altered', () => {
    const payload = JSON.parse(Buffer.from(encodeCursor(['laptops']), 'base64url').toString()) as { after: string[] };
    payload.after = ['phones'];
    const error = refusal(() => decodeCursor(Buffer.from(JSON.stringify(payload)).toString('base64url'), 1));
    expect(error.issues).toEqual([{ path: 'query.cursor', message: 'has been altered' }]);
  });

  it('when a cursor of a list with another sort key is used, then it is refused', () => {
    expect(refusal(() => decodeCursor(encodeCursor(['2026-01-01', 'id-1']), 1)).status).toBe(400);
  });

  it('when one more item than the limit was read, then the page has a next cursor after its last item', () => {
    const request = pageRequestOf({ limit: 2 }, 1);
    const page = pageOf(['a', 'b', 'c'], request, (item) => [item]);
    expect(page.items).toEqual(['a', 'b']);
    expect(decodeCursor(page.nextCursor!, 1)).toEqual(['b']);
    expect(pageRequestOf({ cursor: page.nextCursor!, limit: 2 }, 1).after).toEqual(['b']);
  });

  it('when no more than the limit was read, then it is the last page (nextCursor null) and total only when asked', () => {
    expect(pageOf(['a'], pageRequestOf({ limit: 2 }, 1), (item) => [item])).toEqual({ items: ['a'], nextCursor: null });
    expect(pageOf(['a'], pageRequestOf({ limit: 2, total: 'true' }, 1), (item) => [item], 1)).toEqual({ items: ['a'], nextCursor: null, total: 1 });
  });

  it('when a limit is over the maximum, zero or not a number, then 400 says what is allowed', () => {
    const query = z.strictObject(pageQueryShape({ defaultLimit: 20, maxLimit: 100 }));
    expect(refusal(() => parseInput(query, { limit: '1000' }, 'query')).issues).toEqual([{ path: 'query.limit', message: 'must be at most 100' }]);
    expect(refusal(() => parseInput(query, { limit: '0' }, 'query')).issues).toEqual([{ path: 'query.limit', message: 'must be at least 1' }]);
    expect(refusal(() => parseInput(query, { limit: 'ten' }, 'query')).issues).toEqual([{ path: 'query.limit', message: 'must be a whole number' }]);
    expect(parseInput(query, {}, 'query')).toEqual({ limit: 20 });
  });
});

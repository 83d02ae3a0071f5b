import { AppError, backoffMs, changedWithEvent, concurrentUpdate, deletedWithEvent, isConcurrentUpdate, type CloudEvent } from '../src';

const event = (id: string): CloudEvent => ({
  specversion: '1.0', id, type: 'test.thing.changed', source: 'test', subject: 's', time: new Date(0).toISOString(),
  datacontenttype: 'application/json', data: {},
});

describe('the next image of a document written through a revision claim', () => {
  it('when a change is applied, then the whole image carries it, keeps the rest and appends the event to the outbox', () => {
    const current = { _id: 'x', _rev: 3, name: 'old', description: 'kept', _outbox: [event('e1')], _outboxPending: true };
    const next = changedWithEvent(current, { name: 'new' }, event('e2'));
    expect(next).toEqual({ _id: 'x', _rev: 3, name: 'new', description: 'kept', _outbox: [event('e1'), event('e2')], _outboxPending: true });
    expect(current._outbox).toHaveLength(1);
  });

  it('when a document is deleted, then it is marked deleted together with its event', () => {
    expect(deletedWithEvent({ _id: 'x', name: 'n' }, event('e3'))).toEqual({ _id: 'x', name: 'n', _deleted: true, _outbox: [event('e3')], _outboxPending: true });
  });
});

describe('contention', () => {
  it('when a writer backs off, then the wait is jittered within a ceiling that grows and is capped', () => {
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const wait = backoffMs(attempt, 5, 200);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(Math.min(200, 5 * 2 ** attempt));
    }
  });

  it('when the retry budget is spent, then the client gets 409 concurrent-update with Retry-After', () => {
    const error = concurrentUpdate('This item');
    expect(error).toBeInstanceOf(AppError);
    expect([error.status, error.code, error.retryAfterSeconds]).toEqual([409, 'concurrent-update', 1]);
    expect(isConcurrentUpdate(error)).toBe(true);
    expect(isConcurrentUpdate(new Error('other'))).toBe(false);
  });
});

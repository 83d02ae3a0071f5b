import { auditEventInputSchema, dataProblem, envelopeOfCloudEvent, toAuditEvent } from '../src/domain/audit-event-schema';

const cloudEvent = {
  specversion: '1.0' as const,
  id: 'e-1',
  type: 'catalog.category.created',
  source: 'categories',
  subject: 'c-1',
  time: '2026-11-22T10:00:00.000Z',
  datacontenttype: 'application/json' as const,
  data: { name: 'Shoes' },
  actor: 'user-sub',
  actorkind: 'user' as const,
  actorname: 'editor',
  schemaversion: 1,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

describe('the audit envelope', () => {
  it('when a platform CloudEvent is mapped, then it passes strict validation with actor, trace and schema version', () => {
    const parsed = auditEventInputSchema.parse(envelopeOfCloudEvent(cloudEvent));
    expect(parsed).toEqual({
      id: 'e-1', type: 'catalog.category.created', source: 'categories', subject: 'c-1',
      actor: { id: 'user-sub', kind: 'user', name: 'editor' }, occurredAt: '2026-11-22T10:00:00.000Z',
      traceId: '0af7651916cd43dd8448eb211c80319c', schemaVersion: 1, data: { name: 'Shoes' },
    });
  });

  it('when a CloudEvent has no actor kind, then validation names actor.kind instead of inventing one', () => {
    const { actorkind: _omitted, ...withoutKind } = cloudEvent;
    const result = auditEventInputSchema.safeParse(envelopeOfCloudEvent(withoutKind));
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['actor.kind']);
  });

  it('when the type is not <domain>.<entity>.<verb> or a field is unknown, then validation fails', () => {
    const valid = envelopeOfCloudEvent(cloudEvent);
    expect(auditEventInputSchema.safeParse({ ...valid, type: 'Created' }).success).toBe(false);
    expect(auditEventInputSchema.safeParse({ ...valid, type: 'catalog.created' }).success).toBe(false);
    expect(auditEventInputSchema.safeParse({ ...valid, receivedAt: '2026-11-22T10:00:00Z' }).success).toBe(false);
  });

  it('when data is too large or too deep, then the problem names the place; any JSON within the limits is fine', () => {
    expect(dataProblem({ blob: 'x'.repeat(100) }, 50)).toMatchObject({ path: 'data', tooLarge: true });
    expect(dataProblem({ a: { $where: 1 }, 'a.b': [[1], []], 'B\u0000x': 1 }, 1000)).toBeUndefined();
    let deep: unknown = 1;
    for (let i = 0; i < 40; i += 1) deep = [deep];
    expect(dataProblem(deep, 10_000)?.message).toContain('deeper than 32');
    expect(dataProblem({ ok: [1, 'two', { three: null }] }, 1000)).toBeUndefined();
  });

  it('when an event is stored, then times are normalised ISO strings and undefined values are gone', () => {
    const input = auditEventInputSchema.parse({ ...envelopeOfCloudEvent(cloudEvent), occurredAt: '2026-11-22T11:00:00+01:00', data: { a: undefined, b: -0 } });
    const stored = toAuditEvent(input, new Date('2026-11-22T10:00:01Z'), undefined);
    expect(stored.occurredAt).toBe('2026-11-22T10:00:00.000Z');
    expect(stored.receivedAt).toBe('2026-11-22T10:00:01.000Z');
    expect(stored.data).toEqual({ b: 0 });
    expect(Object.is((stored.data as { b: number }).b, -0)).toBe(false);
  });
});

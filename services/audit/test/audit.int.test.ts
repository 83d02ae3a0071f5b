import { randomUUID } from 'node:crypto';
import { api, controlProcess, eventually, fetchServiceToken, processState, stackInfo, tokenFor } from '@mercato/devstack';
import { MongoClient } from 'mongodb';

interface AuditEvent {
  id: string;
  type: string;
  source: string;
  subject: string;
  actor: { id: string; kind: string; name?: string };
  traceId: string | null;
  data: unknown;
}
interface Problem {
  type: string;
  status: number;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}
interface Report {
  chain: string;
  ok: boolean;
  to: number;
  firstBreak?: { position: number; kind: string; eventId?: string };
  checkpoints: { latest?: { position: number } };
}

const serviceToken = () => fetchServiceToken(stackInfo().keycloakUrl, stackInfo().serviceClients['audit']!);

/** An event as a producer without a sidecar posts it. */
const auditEvent = (overrides: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  type: 'billing.invoice.charged',
  source: 'billing-batch',
  subject: `invoice-${randomUUID().slice(0, 8)}`,
  actor: { id: 'billing-batch', kind: 'service' },
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
  data: { amount: 1250, currency: 'USD' },
  ...overrides,
});

async function withDatabase<T>(work: (db: ReturnType<MongoClient['db']>) => Promise<T>): Promise<T> {
  const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
  try {
    return await work(client.db('audit'));
  } finally {
    await client.close();
  }
}

const storedCount = (filter: Record<string, unknown>) => withDatabase((db) => db.collection('audit_events').countDocuments(filter));

const post = async (body: unknown, token?: string) => api<{ accepted: number } & Problem>('POST', '/api/audit/events', { token: token ?? (await serviceToken()), body });

async function verify(query = ''): Promise<{ ok: boolean; chains: Report[] }> {
  const answer = await api<{ ok: boolean; chains: Report[] }>('GET', `/api/audit/verify${query}`, { token: await tokenFor('auditor') });
  expect(answer.status).toBe(200);
  return answer.body;
}

/** The chain entry that links an event: where it sits, so a test can tamper around it. */
const entryOf = (eventId: string) =>
  withDatabase((db) => db.collection<{ _id: string; chain: string; position: number }>('audit_chain').findOne({ eventId }));

describe('the audit log through ingress → daprd (bearer) → app → FerretDB', () => {
  it('when a category is created through the ingress, then its event is in the audit log once, with the actor', async () => {
    const editor = await tokenFor('editor');
    const slug = `audit-${randomUUID().slice(0, 8)}`;
    const created = await api<{ id: string }>('POST', '/api/categories', { token: editor, body: { name: 'Audited', slug } });
    expect(created.status).toBe(201);
    const auditor = await tokenFor('auditor');
    const found = await eventually(
      () => api<{ items: AuditEvent[] }>('GET', `/api/audit/events?subject=${created.body.id}&type=catalog.*`, { token: auditor }),
      (answer) => answer.body.items?.length > 0,
      30_000,
    );
    expect(found.body.items).toHaveLength(1);
    expect(found.body.items[0]).toMatchObject({
      type: 'catalog.category.created',
      source: 'categories',
      subject: created.body.id,
      actor: { kind: 'user', name: 'editor' },
    });
    expect(await storedCount({ subject: created.body.id })).toBe(1);
  });

  it('when the same event is posted twice, then it is stored once and holds one chain position', async () => {
    const event = auditEvent();
    expect((await post(event)).status).toBe(202);
    expect((await post([event, event])).status).toBe(202);
    expect(await storedCount({ _id: event.id })).toBe(1);
    const entries = await withDatabase((db) => db.collection('audit_chain').countDocuments({ eventId: event.id }));
    expect(entries).toBe(1);
    const read = await api<AuditEvent>('GET', `/api/audit/events/${event.id}`, { token: await tokenFor('auditor') });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: event.id, type: event.type, actor: event.actor, data: event.data });
  });

  it('when a batch holds one malformed event, then 400 names it and nothing of the batch is stored', async () => {
    const good = auditEvent();
    const bad = auditEvent({ actor: { id: 'x', kind: 'robot' } });
    const answer = await post([good, bad]);
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('https://mercato.dev/problems/invalid-event');
    expect(answer.body.detail).toContain(`Event 1 (${bad.id})`);
    expect(answer.body.errors).toEqual([{ path: 'body.1.actor.kind', message: expect.stringContaining('user, service, anonymous') }]);
    expect(await storedCount({ _id: { $in: [good.id, bad.id] } })).toBe(0);
  });

  it('when data is over the limit or the batch over the maximum, then 413 and nothing is stored', async () => {
    const big = auditEvent({ data: { blob: 'x'.repeat(9000) } });
    const tooBig = await post(big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.errors?.[0]?.path).toBe('body.data');
    const many = Array.from({ length: 501 }, () => auditEvent());
    const tooMany = await post(many);
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.type).toBe('https://mercato.dev/problems/batch-too-large');
    expect(await storedCount({ _id: { $in: [big.id, many[0]!.id] } })).toBe(0);
  });

  it('when a schema is registered for a type, then events of that type must match it (422 naming the field)', async () => {
    const type = `test.schema${randomUUID().slice(0, 6)}.checked`;
    const admin = await tokenFor('admin');
    const schema = { type: 'object', required: ['amount'], properties: { amount: { type: 'integer', minimum: 0 } } };
    const registered = await api('PUT', `/api/audit/schemas/${type}`, { token: admin, body: schema });
    expect(registered.status).toBe(201);
    const invalidSchema = await api<Problem>('PUT', `/api/audit/schemas/${type}`, { token: admin, body: { type: 'no-such-type' } });
    expect(invalidSchema.status).toBe(422);
    const mismatch = auditEvent({ type, data: { amount: -5 } });
    const refused = await post(mismatch);
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0]?.path).toBe('body.data.amount');
    expect((await post(auditEvent({ type, data: { amount: 5 } }))).status).toBe(202);
    expect(await storedCount({ _id: mismatch.id })).toBe(0);
  });

  it('when a poison message is on the topic, then it is dropped and the events behind it are stored', async () => {
    const sidecar = stackInfo().sidecars['categories']!;
    const publish = (event: Record<string, unknown>) =>
      fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/publish/events/events`, {
        method: 'POST',
        headers: { 'dapr-api-token': sidecar.apiToken, 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
      });
    const poison = { specversion: '1.0', id: randomUUID(), type: 'Not A Type', source: 'test', datacontenttype: 'application/json', data: {} };
    const good = {
      specversion: '1.0', id: randomUUID(), type: 'test.poison.followed', source: 'test', subject: 'behind-poison',
      time: new Date().toISOString(), datacontenttype: 'application/json', data: { ok: true }, actor: 'tester', actorkind: 'user', schemaversion: 1,
    };
    expect((await publish(poison)).status).toBe(204);
    expect((await publish(good)).status).toBe(204);
    expect(await eventually(() => storedCount({ _id: good.id }), (count) => count === 1, 30_000)).toBe(1);
    expect(await storedCount({ _id: poison.id })).toBe(0);
  });

  it('when an auditor reads the log, then the read is recorded as audit.log.read with the auditor as actor', async () => {
    const auditor = await tokenFor('auditor');
    const marker = randomUUID().slice(0, 8);
    expect((await api('GET', `/api/audit/events?q=${marker}`, { token: auditor })).status).toBe(200);
    const reads = await eventually(
      () => api<{ items: AuditEvent[] }>('GET', `/api/audit/events?type=audit.log.read&q=${marker}`, { token: auditor }),
      (answer) => answer.body.items?.length > 0,
    );
    expect(reads.body.items[0]).toMatchObject({ type: 'audit.log.read', source: 'audit', actor: { kind: 'user', name: 'auditor' } });
    expect((await api('GET', '/api/audit/events', { token: await tokenFor('editor') })).status).toBe(403);
  });

  it('when events are edited, removed or the tail is cut in the database, then /verify names the break and its position', async () => {
    const events = Array.from({ length: 5 }, () => auditEvent());
    expect((await post(events)).status).toBe(202);
    const entry = (await entryOf(events[2]!.id))!;
    const chain = entry.chain;
    // Sealed: a checkpoint covers the batch before the tampering starts.
    await eventually(() => verify(`?chain=${chain}`), (report) => (report.chains[0]?.checkpoints.latest?.position ?? 0) >= entry.position + 2, 30_000);
    expect((await verify(`?chain=${chain}`)).ok).toBe(true);

    await withDatabase(async (db) => {
      const stored = db.collection<{ _id: string; data: unknown }>('audit_events');
      const original = (await stored.findOne({ _id: events[2]!.id }))!;
      await stored.updateOne({ _id: events[2]!.id }, { $set: { data: { amount: 1, currency: 'USD' } } });
      const edited = (await verify(`?chain=${chain}`)).chains[0]!;
      expect(edited.firstBreak).toMatchObject({ kind: 'event-edited', position: entry.position, eventId: events[2]!.id });

      await stored.deleteOne({ _id: events[2]!.id });
      const removed = (await verify(`?chain=${chain}`)).chains[0]!;
      expect(removed.firstBreak).toMatchObject({ kind: 'event-removed', position: entry.position, eventId: events[2]!.id });
      await stored.insertOne(original);
      expect((await verify(`?chain=${chain}`)).ok).toBe(true);
    });

    // Cut the tail after our batch: every entry from the last of ours on. (A read is recorded after it is answered,
    // so the verification below sees the chain as cut, not with a new entry after the gap.)
    await withDatabase(async (db) => {
      const links = db.collection<{ _id: string; chain: string; position: number }>('audit_chain');
      const lastOurs = (await entryOf(events[4]!.id))!;
      const tail = await links.find({ chain, position: { $gte: lastOurs.position } }).toArray();
      await links.deleteMany({ _id: { $in: tail.map((link) => link._id) } });
      try {
        const cut = (await verify(`?chain=${chain}`)).chains[0]!;
        expect(cut.ok).toBe(false);
        expect(cut.firstBreak?.kind).toBe('tail-cut');
      } finally {
        await links.insertMany(tail, { ordered: false }).catch(() => undefined);
      }
    });
  });

  it('when an audit replica is killed with SIGKILL during a stream of events, then no acknowledged event is lost', async () => {
    const token = await serviceToken();
    const run = `kill-${randomUUID().slice(0, 8)}`;
    const acknowledged: string[] = [];
    let stop = false;
    const producer = async () => {
      while (!stop) {
        const batch = Array.from({ length: 10 }, () => auditEvent({ source: run }));
        const answer = await post(batch, token).catch(() => undefined);
        if (answer?.status === 202) acknowledged.push(...batch.map((event) => event.id));
      }
    };
    const producers = [producer(), producer()];
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await controlProcess('audit-1', 'kill');
    await new Promise((resolve) => setTimeout(resolve, 4000));
    stop = true;
    await Promise.all(producers);
    expect(acknowledged.length).toBeGreaterThan(100);
    // Every acknowledged event is stored (ids are unique, so the counts match only if none is missing).
    const stored = await eventually(() => storedCount({ source: run }), (count) => count >= acknowledged.length, 30_000);
    expect(stored).toBeGreaterThanOrEqual(acknowledged.length);
    expect(await storedCount({ _id: { $in: acknowledged } })).toBe(acknowledged.length);
    // Whatever the crash left half done is linked once the replica holds its chain again: every chain verifies.
    const report = await eventually(() => verify(), (answer) => answer.ok, 60_000);
    expect(report.chains.filter((chain) => !chain.ok)).toEqual([]);
    const unlinked = await withDatabase(async (db) => {
      const linked = await db.collection('audit_chain').countDocuments({ eventId: { $in: acknowledged } });
      return acknowledged.length - linked;
    });
    expect(unlinked).toBe(0);
  });

  it('when the database stalls and producers keep sending, then a full buffer answers 503 buffer-full with Retry-After', async () => {
    const token = await serviceToken();
    // Warm: the type's schema lookup is cached, so only the writes wait on the stalled database. (A replica the test
    // before killed may still be taking its chain back: 503 until it has.)
    expect((await eventually(() => post(auditEvent(), token), (answer) => answer.status === 202, 60_000)).status).toBe(202);
    const { pid } = await processState('ferretdb');
    process.kill(pid!, 'SIGSTOP');
    let answers: Awaited<ReturnType<typeof post>>[];
    try {
      const sending = Promise.all(Array.from({ length: 10 }, () => post(Array.from({ length: 500 }, () => auditEvent()), token)));
      // The buffer-full answers come at once; the rest wait for the database.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      process.kill(pid!, 'SIGCONT');
      answers = await sending;
    } finally {
      process.kill(pid!, 'SIGCONT');
    }
    const pushedBack = answers.filter((answer) => answer.body.type === 'https://mercato.dev/problems/buffer-full');
    expect(pushedBack.length).toBeGreaterThan(0);
    expect(pushedBack[0]!.status).toBe(503);
    expect(pushedBack[0]!.headers.get('retry-after')).toBe('1');
    // What was taken in was not dropped: answered 202 once the database came back.
    expect(answers.filter((answer) => answer.status === 202).length).toBeGreaterThan(0);
    // A batch that reached the writer while the driver had given the stalled server up (its 2 s heartbeat timed out)
    // is refused as the database being unreachable: also a 503 with Retry-After, and nothing of it acknowledged. Which
    // of the two a batch gets depends on where the heartbeat fell in the stall, so both are clean push-back here.
    const cleanPushBack = ['https://mercato.dev/problems/buffer-full', 'https://mercato.dev/problems/database-unavailable'];
    const others = answers.filter((answer) => answer.status !== 202 && !(answer.status === 503 && cleanPushBack.includes(answer.body.type) && answer.headers.get('retry-after')));
    expect(others.map((answer) => `${answer.status} ${answer.body.type} ${answer.body.detail}`)).toEqual([]);
  });

  it('when every chain is verified, then each is whole and sealed by a signed checkpoint', async () => {
    const report = await eventually(() => verify(), (answer) => answer.ok && answer.chains.every((chain) => chain.checkpoints.latest), 30_000);
    expect(report.ok).toBe(true);
    expect(report.chains.length).toBeGreaterThanOrEqual(2);
  });
});

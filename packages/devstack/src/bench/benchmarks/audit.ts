import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isFerretDb, openDatabase } from '@mercato/platform';
import { fetchServiceToken } from '../../keycloak';
import { repoRoot } from '../../paths';
import type { Sidecar, Stack } from '../../stack';
import { groupTicks, ticksPerSecond } from '../cpu';
import type { BenchContext, BenchReport, Benchmark, Check, Measurement } from '../framework';

/** Targets, from the audit issue (issue 8, "Tests and benchmark"). */
export const targets = {
  batchApiEventsPerSecond: 20_000,
  pubsubEventsPerSecond: 5_000,
  /** Each of (a) and (b) against the per-event `insertOne` baseline. */
  overPerEvent: 10,
};

/** The events stream is trimmed to about this many entries (components/events.yaml, maxLenApprox). */
const streamBound = 100_000;

/**
 * N, the events of each of (a), (b) and (c): `BENCH_AUDIT_EVENTS`. The default keeps the benchmark within 3 minutes
 * here: 20,000 took 7 s through the batch API, 160 s through pub/sub and 70 s one by one on the loaded machine.
 */
function eventCount(): number {
  const raw = process.env['BENCH_AUDIT_EVENTS'];
  const count = raw === undefined ? 10_000 : Number(raw);
  if (!Number.isInteger(count) || count < 500) throw new Error(`BENCH_AUDIT_EVENTS must be a whole number of at least 500, not "${raw}"`);
  // Published faster than the audit service takes them, events beyond the bound would be trimmed before they are read:
  // the lost count would measure the transport's retention, not the audit service.
  if (count > streamBound) throw new Error(`BENCH_AUDIT_EVENTS must stay at most ${streamBound} (the events stream's length bound), not ${count}`);
  return count;
}

const batchSize = 500;
/**
 * Concurrent producers on the batch API. Each replica holds AUDIT_BUFFER_EVENTS (1,500 on throw-away platforms, i.e.
 * three batches) and writes one batch at a time, so four clients over two replicas keep one batch writing and one
 * waiting on each without filling a buffer; a full buffer still answers 503 and the client honours Retry-After.
 */
const apiClients = 4;
/** Concurrent publish calls, spread over the categories sidecars (as a service's events reach the topic). */
const publishers = 32;
/** Concurrent `insertOne`s of the baseline: enough to keep FerretDB's one writer busy, as the batch path's clients do. */
const baselineWriters = 16;
/** How often the stored events are counted while waiting for the published ones (each count costs FerretDB a table count). */
const pollMs = 500;
/** How long after the last publish the published events may take to become durable before the missing count as lost. */
const durableGraceMs = 60_000;
/** 503s in a row for one batch before it counts as failed: back-pressure clears in seconds, a broken path never does. */
const maxPushBacks = 10;

type AuditDatabase = ReturnType<typeof openDatabase>['db'];

/** The stored form of an event (services/audit audit-repository.ts), from the service's built code. */
interface AuditRepositoryModule {
  documentOf(event: Record<string, unknown>, chain: string, batch: string): { _id: string };
  auditEventIndexes: Record<string, Array<{ key: Record<string, 1 | -1>; name: string; unique?: boolean }>>;
}

/** The built file at run time, as the catalog benchmark does: devstack does not depend on a service. */
function auditRepositoryModule(): AuditRepositoryModule {
  return require(path.join(repoRoot, 'services/audit/dist/data-access/audit-repository.js')) as AuditRepositoryModule;
}

/** An event as a producer without a sidecar posts it (the shape of the integration test's). */
const apiEvent = (source: string, index: number) => ({
  id: randomUUID(),
  type: 'bench.audit.posted',
  source,
  subject: `invoice-${index}`,
  actor: { id: 'audit-bench', kind: 'service' },
  occurredAt: new Date().toISOString(),
  schemaVersion: 1,
  data: { amount: 1000 + (index % 1000), currency: 'USD', note: `batch api event ${index}` },
});

/** A CloudEvent as a service's sidecar publishes it, with the extensions the audit envelope reads. */
const cloudEvent = (source: string, index: number) => ({
  specversion: '1.0',
  id: randomUUID(),
  type: 'bench.audit.published',
  source,
  subject: `invoice-${index}`,
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: { amount: 1000 + (index % 1000), currency: 'USD', note: `pubsub event ${index}` },
  actor: 'audit-bench',
  actorkind: 'service',
  schemaversion: 1,
});

/** p-th percentile (0–100) of the values, nearest rank; NaN for none. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** A table row from calls timed here (not wrk): requests/s and the calls' own latencies. */
function row(name: string, connections: number, calls: readonly number[], seconds: number, errors: number): Measurement {
  return {
    name,
    connections,
    requestsPerSecond: calls.length / seconds,
    p50Ms: percentile(calls, 50),
    p95Ms: percentile(calls, 95),
    p99Ms: percentile(calls, 99),
    errors,
    statusErrors: errors,
    runs: [],
    cpuMsPerRequest: new Map(),
  };
}

/** Runs `work(i)` for i in 0..count-1 with `workers` at a time. */
async function pool(count: number, workers: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(workers, count) }, worker));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- CPU: which process burns what while a phase runs (the answer to "what limits the throughput") ----

/** Which supervised processes an audit phase is charged to, by name. */
const auditProcesses = (name: string): string | undefined => {
  if (name === 'ferretdb') return 'FerretDB';
  if (/^audit-\d+$/.test(name)) return 'audit apps';
  if (/^daprd-audit-\d+$/.test(name)) return 'daprd (audit)';
  if (/^daprd-categories-\d+$/.test(name)) return 'daprd (publishers)';
  if (name === 'redis') return 'Redis';
  if (name === 'nginx') return 'nginx';
  return undefined;
};

/** Busy and total jiffies of the whole machine (the first line of /proc/stat), everyone's work included. */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

interface CpuSample {
  groups: Map<number, string>;
  ticks: Map<number, number>;
  own: NodeJS.CpuUsage;
  machine: { busy: number; total: number };
  at: number;
}

function sampleCpu(stack: Stack): CpuSample {
  const groups = new Map<number, string>();
  for (const name of stack.processNames()) {
    const label = auditProcesses(name);
    const pid = label ? stack.pidOf(name) : undefined;
    if (label && pid && pid > 0) groups.set(pid, label);
  }
  return { groups, ticks: groupTicks(new Set(groups.keys())), own: process.cpuUsage(), machine: machineTicks(), at: performance.now() };
}

/** Cores each label kept busy between the samples (1.00 = one core all the time), the bench process and the machine. */
function coresBusy(before: CpuSample): string {
  const after = groupTicks(new Set(before.groups.keys()));
  const seconds = (performance.now() - before.at) / 1000;
  const perLabel = new Map<string, number>();
  for (const [pgid, label] of before.groups) {
    const ticks = (after.get(pgid) ?? 0) - (before.ticks.get(pgid) ?? 0);
    // A process that restarted meanwhile has a new group: its old ticks are gone, so never count below zero.
    perLabel.set(label, (perLabel.get(label) ?? 0) + Math.max(0, ticks) / ticksPerSecond / seconds);
  }
  const own = process.cpuUsage(before.own);
  perLabel.set('bench client', (own.user + own.system) / 1e6 / seconds);
  const machine = machineTicks();
  const machineShare = (machine.busy - before.machine.busy) / Math.max(1, machine.total - before.machine.total);
  const parts = [...perLabel].sort((a, b) => b[1] - a[1]).map(([label, cores]) => `${label} ${cores.toFixed(2)}`);
  return `${parts.join(', ')}; whole machine ${(machineShare * 100).toFixed(0)}% busy`;
}

// ---- Durability: how many events the chains hold, cheaply, and exactly by source ----

/**
 * Events stored so far, from the collection's statistics: on FerretDB's SQLite backend a count of the table (35–150 ms
 * at 40,000 events here), where any filter, even a missed `findOne` by `_id`, reads and decodes every document
 * (docs/runtime.md, "FerretDB and `_id`"). Cheap enough to poll while measuring; the exact count by source decides.
 */
async function storedTotal(db: AuditDatabase): Promise<number> {
  const [stats] = await db.collection('audit_events').aggregate<{ count?: number }>([{ $collStats: { count: {} } }]).toArray();
  return stats?.count ?? 0;
}

/** Of `acknowledged`, how many are not stored: one read of the run's events by source (a scan on FerretDB, done once). */
async function lostOf(db: AuditDatabase, source: string, acknowledged: readonly string[]): Promise<{ stored: number; lost: number }> {
  const stored = new Set((await db.collection<{ _id: string }>('audit_events').find({ source }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
  return { stored: stored.size, lost: acknowledged.filter((id) => !stored.has(id)).length };
}

// ---- The three phases ----

interface PhaseResult {
  row: Measurement;
  eventsPerSecond: number;
  seconds: number;
  acknowledged: number;
  stored: number;
  lost: number;
  cpu: string;
  extra: string;
}

/** (a) N events through the ingress in POSTs of 500, `apiClients` at a time, each answered 202 only once durable. */
async function batchApi(context: BenchContext, db: AuditDatabase, events: ReadonlyArray<ReturnType<typeof apiEvent>>, source: string): Promise<PhaseResult> {
  const { stack } = context;
  const url = `${stack.ingressUrl}/api/audit/events`;
  const client = stack.serviceClients['audit'];
  if (!client) throw new Error('the stack has no Keycloak client for the audit service');
  const headers = { authorization: `Bearer ${await fetchServiceToken(stack.keycloakUrl, client)}`, 'content-type': 'application/json' };
  // Warm: the type's schema lookup is cached and the connections are open before the clock starts.
  const warm = await fetch(url, { method: 'POST', headers, body: JSON.stringify(apiEvent(`${source}-warm-up`, 0)) });
  if (warm.status !== 202) throw new Error(`POST /api/audit/events answered ${warm.status}: ${await warm.text()}`);

  // Bodies built before the clock starts, so serialising them is not charged to the service.
  const bodies: Array<{ ids: string[]; body: string }> = [];
  for (let start = 0; start < events.length; start += batchSize) {
    const slice = events.slice(start, start + batchSize);
    bodies.push({ ids: slice.map((event) => event.id), body: JSON.stringify(slice) });
  }
  const acknowledged: string[] = [];
  const latencies: number[] = [];
  let pushedBack = 0;
  let failed = 0;
  let firstFailure = '';
  const cpu = sampleCpu(stack);
  const started = performance.now();
  await pool(bodies.length, apiClients, async (index) => {
    const { ids, body } = bodies[index]!;
    for (let attempt = 1; ; attempt++) {
      const sent = performance.now();
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(60_000) }).catch((error: unknown) => error as Error);
      if (response instanceof Error) {
        failed += 1;
        firstFailure ||= response.message;
        return;
      }
      const text = await response.text();
      if (response.status === 202) {
        latencies.push(performance.now() - sent);
        acknowledged.push(...ids);
        return;
      }
      if ((response.status === 503 || response.status === 429) && attempt < maxPushBacks) {
        // Back-pressure, as the service documents it: the batch is sent again after Retry-After, never dropped.
        pushedBack += 1;
        await sleep(Number(response.headers.get('retry-after') ?? '1') * 1000);
        continue;
      }
      failed += 1;
      firstFailure ||= `${response.status} ${text.slice(0, 200)}`;
      return;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuLine = coresBusy(cpu);
  const { stored, lost } = await lostOf(db, source, acknowledged);
  return {
    row: row(`(a) POST /api/audit/events, ${batchSize} per batch`, apiClients, latencies, seconds, failed),
    eventsPerSecond: acknowledged.length / seconds,
    seconds,
    acknowledged: acknowledged.length,
    stored,
    lost,
    cpu: cpuLine,
    extra: `${bodies.length} batches by ${apiClients} clients, ${pushedBack} answered 503/429 and sent again after Retry-After${failed ? `, ${failed} failed (first: ${firstFailure})` : ''}`,
  };
}

/**
 * (b) N events published to the `events` topic through the categories sidecars, `publishers` calls at a time, timed from
 * the first publish until every one is in the audit log (counted cheaply while waiting, then confirmed by source).
 */
async function pubsub(context: BenchContext, db: AuditDatabase, count: number, source: string): Promise<PhaseResult & { publishSeconds: number }> {
  const { stack } = context;
  const sidecars: Sidecar[] = stack.replicas['categories'] ?? [];
  if (sidecars.length === 0) throw new Error('the pub/sub phase publishes through the categories sidecars; the stack has none');
  const bodies = Array.from({ length: count }, (_, index) => cloudEvent(source, index));
  const payloads = bodies.map((event) => JSON.stringify(event));
  const storedBefore = await storedTotal(db);

  const published: string[] = [];
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure = '';
  const cpu = sampleCpu(stack);
  const started = performance.now();
  let publishedAt: number | undefined;
  const publishing = pool(count, publishers, async (index) => {
    const sidecar = sidecars[index % sidecars.length]!;
    const sent = performance.now();
    const response = await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/publish/events/events`, {
      method: 'POST',
      headers: { 'dapr-api-token': sidecar.apiToken, 'content-type': 'application/cloudevents+json' },
      body: payloads[index],
      signal: AbortSignal.timeout(30_000),
    }).catch((error: unknown) => error as Error);
    if (response instanceof Error || response.status !== 204) {
      failed += 1;
      firstFailure ||= response instanceof Error ? response.message : `${response.status} ${(await response.text()).slice(0, 200)}`;
      return;
    }
    latencies.push(performance.now() - sent);
    published.push(bodies[index]!.id);
  }).finally(() => {
    publishedAt = performance.now();
  });

  // Durable when stored: an event is stored and linked in the same batch write and acknowledged only after both. Count
  // the collection until it grew by what was published, then confirm by source (only our events are written meanwhile
  // on a benchmark platform, but the exact count decides). Waited for as long as
  // publishing takes and a grace period after it, so slowness shows as a low rate and only events still missing after
  // that count as not durable.
  let doneAt: number | undefined;
  while (doneAt === undefined && (publishedAt === undefined || performance.now() < publishedAt + durableGraceMs)) {
    await sleep(pollMs);
    const grown = (await storedTotal(db)) - storedBefore;
    if (publishedAt === undefined || grown < published.length) continue;
    const seenAt = performance.now();
    if ((await lostOf(db, source, published)).stored >= published.length) doneAt = seenAt;
  }
  await publishing;
  const publishSeconds = ((publishedAt ?? performance.now()) - started) / 1000;
  const seconds = ((doneAt ?? performance.now()) - started) / 1000;
  const cpuLine = coresBusy(cpu);
  const { stored: finalStored, lost } = await lostOf(db, source, published);
  return {
    row: row(`(b) publish to the events topic (1 per call)`, publishers, latencies, publishSeconds, failed),
    eventsPerSecond: doneAt === undefined ? 0 : published.length / seconds,
    seconds,
    publishSeconds,
    acknowledged: published.length,
    stored: finalStored,
    lost,
    cpu: cpuLine,
    extra:
      `published through ${sidecars.length} categories sidecars at ${(published.length / publishSeconds).toFixed(0)} events/s` +
      `${doneAt === undefined ? `; NOT all durable within ${durableGraceMs / 1000} s of the last publish (still in flight or lost)` : ''}${failed ? `; ${failed} publishes failed (first: ${firstFailure})` : ''}`,
  };
}

/**
 * (c) The same events, one `insertOne` each, into a scratch collection with the indexes the audit service's own
 * collection has on this backend: what batching saves. On FerretDB that is the unique ones only, as `ensureIndexes`
 * creates (none of the audit events' five is unique): a baseline paying for four indexes the service does not have
 * would flatter the ratios.
 */
async function perEventBaseline(context: BenchContext, db: AuditDatabase, events: ReadonlyArray<ReturnType<typeof apiEvent>>, run: string): Promise<PhaseResult> {
  const { documentOf, auditEventIndexes } = auditRepositoryModule();
  const scratch = db.collection<{ _id: string }>(`bench_per_event_${run}`);
  const onFerretDb = await isFerretDb(db);
  const indexes = (auditEventIndexes['audit_events'] ?? []).filter((index) => index.unique || !onFerretDb);
  if (indexes.length) await scratch.createIndexes(indexes.map((index) => ({ key: index.key, name: index.name, ...(index.unique ? { unique: true } : {}) })));
  const receivedAt = new Date().toISOString();
  const documents = events.map((event) => documentOf({ ...event, receivedAt, traceId: null }, 'baseline', 'baseline'));
  const latencies: number[] = [];
  let failed = 0;
  let firstFailure = '';
  const cpu = sampleCpu(context.stack);
  const started = performance.now();
  try {
    await pool(documents.length, baselineWriters, async (index) => {
      const sent = performance.now();
      try {
        await scratch.insertOne(documents[index]!);
        latencies.push(performance.now() - sent);
      } catch (error) {
        failed += 1;
        firstFailure ||= String(error);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    const cpuLine = coresBusy(cpu);
    const stored = await scratch.countDocuments({});
    return {
      row: row('(c) insertOne per event (baseline)', baselineWriters, latencies, seconds, failed),
      eventsPerSecond: latencies.length / seconds,
      seconds,
      acknowledged: latencies.length,
      stored,
      lost: Math.max(0, latencies.length - stored),
      cpu: cpuLine,
      extra: `${baselineWriters} writers over the driver's pool, ${indexes.length} of the audit events' indexes, as the service's collection has them here${failed ? `; ${failed} inserts failed (first: ${firstFailure})` : ''}`,
    };
  } finally {
    await scratch.drop().catch(() => undefined);
  }
}

const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')} events/s`;

export const auditBenchmark: Benchmark = {
  name: 'audit',
  description: 'audit ingest: events/s through the batch API (500 per POST) and through pub/sub end to end, against one insertOne per event; events lost',
  async run(context): Promise<BenchReport> {
    const { stack } = context;
    const count = eventCount();
    const run = randomUUID().slice(0, 8);
    const database = openDatabase({ uri: stack.mongodbUri, database: 'audit', serverSelectionTimeoutMs: 5000, appName: 'audit-bench' });
    try {
      const ceiling = await context.ceiling();
      const events = Array.from({ length: count }, (_, index) => apiEvent(`bench-audit-${run}-api`, index));

      context.progress(`audit: (a) ${count} events through POST /api/audit/events in batches of ${batchSize}, ${apiClients} clients`);
      const api = await batchApi(context, database.db, events, `bench-audit-${run}-api`);
      context.progress(`  (a) ${rate(api.eventsPerSecond)} in ${api.seconds.toFixed(1)} s; CPU (cores): ${api.cpu}`);

      context.progress(`audit: (b) ${count} events published to the events topic, ${publishers} at a time, until durable`);
      const topic = await pubsub(context, database.db, count, `bench-audit-${run}-pubsub`);
      context.progress(`  (b) ${rate(topic.eventsPerSecond)} in ${topic.seconds.toFixed(1)} s (publishing took ${topic.publishSeconds.toFixed(1)} s); CPU (cores): ${topic.cpu}`);

      context.progress(`audit: (c) the same ${count} events, one insertOne each, ${baselineWriters} at a time`);
      const baseline = await perEventBaseline(context, database.db, events, run);
      context.progress(`  (c) ${rate(baseline.eventsPerSecond)} in ${baseline.seconds.toFixed(1)} s; CPU (cores): ${baseline.cpu}`);

      const over = (phase: PhaseResult) => phase.eventsPerSecond / baseline.eventsPerSecond;
      const lost = api.lost + topic.lost;
      const checks: Check[] = [
        {
          name: `(a) batch API ≥ ${targets.batchApiEventsPerSecond.toLocaleString('en-US')} events/s`,
          pass: api.eventsPerSecond >= targets.batchApiEventsPerSecond,
          detail: `${rate(api.eventsPerSecond)} (${api.acknowledged} answered 202 in ${api.seconds.toFixed(1)} s)`,
        },
        {
          name: `(b) pub/sub end to end ≥ ${targets.pubsubEventsPerSecond.toLocaleString('en-US')} events/s`,
          pass: topic.eventsPerSecond >= targets.pubsubEventsPerSecond,
          detail: `${rate(topic.eventsPerSecond)} (${topic.acknowledged} published → durable in ${topic.seconds.toFixed(1)} s)`,
        },
        {
          name: `(a) ≥ ${targets.overPerEvent}× the per-event baseline (c)`,
          pass: over(api) >= targets.overPerEvent,
          detail: `${over(api).toFixed(1)}× (${rate(api.eventsPerSecond)} / ${rate(baseline.eventsPerSecond)})`,
        },
        {
          name: `(b) ≥ ${targets.overPerEvent}× the per-event baseline (c)`,
          pass: over(topic) >= targets.overPerEvent,
          detail: `${over(topic).toFixed(1)}× (${rate(topic.eventsPerSecond)} / ${rate(baseline.eventsPerSecond)})`,
        },
        {
          name: 'no acknowledged event lost (acknowledged − stored = 0)',
          pass: lost === 0 && api.acknowledged === count && topic.acknowledged === count,
          detail:
            `(a) ${api.acknowledged} answered 202, ${api.lost} of them not stored; (b) ${topic.acknowledged} published, ${topic.lost} of them not stored` +
            ` (of ${count} sent each)`,
        },
      ];
      return {
        rows: [ceiling, api.row, topic.row, baseline.row],
        notes: [
          `events/s (N = ${count} each): (a) batch API ${rate(api.eventsPerSecond)} [target ≥ ${targets.batchApiEventsPerSecond.toLocaleString('en-US')}]; ` +
            `(b) pub/sub published → durable ${rate(topic.eventsPerSecond)} [target ≥ ${targets.pubsubEventsPerSecond.toLocaleString('en-US')}]; ` +
            `(c) insertOne per event ${rate(baseline.eventsPerSecond)}`,
          `ratios: (a)/(c) ${over(api).toFixed(1)}×, (b)/(c) ${over(topic).toFixed(1)}× [target ≥ ${targets.overPerEvent}×]`,
          `(a) ${api.extra}; the row's req/s are batches/s and its latencies a batch's (202 = durable)`,
          `(b) ${topic.extra}; the row is the publish calls, the events/s above run from the first publish until all are durable`,
          `(c) ${baseline.extra}`,
          `CPU during (a), cores busy: ${api.cpu}`,
          `CPU during (b), cores busy: ${topic.cpu}`,
          `CPU during (c), cores busy: ${baseline.cpu}`,
        ],
        checks,
      };
    } finally {
      await database.close();
    }
  },
};

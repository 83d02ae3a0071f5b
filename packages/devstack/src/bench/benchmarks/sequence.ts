import { fetchServiceToken } from '../../keycloak';
import { startUniquenessCheck } from '../../testing/uniqueness-checker';
import type { PublicServiceSpec } from '../../services';
import type { BenchContext, BenchReport, Benchmark, Check, Measurement } from '../framework';
import { ceilingTarget } from '../hello';
import { shareCheck } from '../report';

/** Targets, from the sequence service's issue. */
export const targets = {
  /** Single `next` (block mode) against the hello-world behind the same nginx + daprd. */
  singleShare: 0.7,
  /** `count=100` requests/s, i.e. 100,000 ids/s. */
  batchRequestsPerSecond: 1000,
  /** Single `next` against the naive baseline (lock + durable write for every number). */
  overNaive: 20,
};

const sequences = { block: 'bench-block', batch: 'bench-batch', strict: 'bench-strict' } as const;

/** The naive baseline (naive-sequence-app.ts): lock, increment in MongoDB, unlock, for every number; two replicas. */
export const naiveSpec: PublicServiceSpec = {
  appId: 'naive-sequence',
  main: 'packages/devstack/dist/bench/naive-sequence-app.js',
  ingress: { prefix: '/api/naive-sequence', appPath: '/naive-sequence' },
  database: 'naive-sequence',
  replicas: 2,
};

async function configure(context: BenchContext, name: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${context.stack.ingressUrl}/api/sequences/${name}`, {
    method: 'PUT',
    headers: { ...(await context.bearer('admin')), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`configuring the sequence ${name} failed: ${response.status} ${await response.text()}`);
  }
}

/** Which processes' CPU a `next` run reports, by supervised process name. */
const sequencePath = (name: string): string | undefined => {
  if (/^daprd-sequence(-\d+)?$/.test(name)) return 'daprd';
  if (/^sequence(-\d+)?$/.test(name)) return 'sequence app';
  if (name === 'ferretdb') return 'FerretDB';
  if (name === 'redis') return 'Redis';
  if (name === 'nginx') return 'nginx';
  return undefined;
};

export const sequenceBenchmark: Benchmark = {
  name: 'sequence',
  description: 'unique numbers: block mode, count=100 and strict against the ceiling and the naive baseline; uniqueness at scale',
  services: [naiveSpec],
  async run(context): Promise<BenchReport> {
    const { stack } = context;
    const client = stack.serviceClients['categories'] ?? Object.values(stack.serviceClients)[0];
    if (!client) throw new Error('the stack has no service client to call the sequence service with');
    // Called as another service would: its own client-credentials token (role `service`).
    const asService = async () => ({ authorization: `Bearer ${await fetchServiceToken(stack.keycloakUrl, client)}` });
    await configure(context, sequences.block, { blockSize: 1000 });
    await configure(context, sequences.batch, { blockSize: 1000 });
    await configure(context, sequences.strict, { mode: 'strict' });
    const next = (name: string, query = '') => `${stack.ingressUrl}/api/sequences/${name}/next${query}`;

    const ceiling = await context.ceiling();
    context.progress('sequence: single next (block mode)');
    const single = await context.measure(
      { name: 'next (block mode)', url: next(sequences.block), method: 'POST', headers: asService },
      // In alternation with the ceiling, so the share compares the same moment (framework.ts, `beside`).
      { cpuOf: sequencePath, beside: ceilingTarget(stack, () => context.bearer('viewer')) },
    );
    context.progress('sequence: next?count=100');
    const batch = await context.measure({ name: 'next?count=100 (block mode)', url: next(sequences.batch, '?count=100'), method: 'POST', headers: asService });
    context.progress('sequence: strict mode (lock + claimed write per call)');
    const strict = await context.measure({ name: 'next (strict mode)', url: next(sequences.strict), method: 'POST', headers: asService });
    context.progress('sequence: the naive baseline (lock + MongoDB increment per number)');
    const naive = await context.measure({
      name: 'naive baseline (lock + $inc per number)',
      url: `${stack.ingressUrl}${naiveSpec.ingress.prefix}/next`,
      method: 'POST',
      headers: asService,
    });

    context.progress('sequence: uniqueness at scale (every value recorded)');
    const token = (await asService()).authorization;
    const large = startUniquenessCheck({
      clients: 32,
      maxValues: 500_000,
      maxMs: 20_000,
      call: async () => {
        const response = await fetch(next(sequences.batch, '?count=100'), { method: 'POST', headers: { authorization: token } });
        if (response.status === 503) return 'retry';
        if (response.status !== 200) throw new Error(`next answered ${response.status}: ${await response.text()}`);
        return ((await response.json()) as { values: number[] }).values;
      },
    });
    const report = await large.result;

    const checks: Check[] = [
      shareCheck(`single next ≥ ${targets.singleShare * 100}% of the ceiling`, single, ceiling, targets.singleShare),
      {
        name: `count=100 ≥ ${targets.batchRequestsPerSecond} req/s (${targets.batchRequestsPerSecond * 100} ids/s)`,
        pass: batch.requestsPerSecond >= targets.batchRequestsPerSecond,
        detail: `${batch.requestsPerSecond.toFixed(0)} req/s = ${(batch.requestsPerSecond * 100).toFixed(0)} ids/s`,
      },
      {
        name: `single next ≥ ${targets.overNaive}× the naive baseline`,
        pass: single.requestsPerSecond >= targets.overNaive * naive.requestsPerSecond,
        detail: `${(single.requestsPerSecond / naive.requestsPerSecond).toFixed(1)}× (${single.requestsPerSecond.toFixed(0)} / ${naive.requestsPerSecond.toFixed(0)} req/s)`,
      },
      {
        name: 'no value handed out twice at scale',
        pass: report.duplicates.length === 0 && report.values.length > 0,
        detail: `${report.values.length} values from ${report.requests} requests by 32 clients in ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.duplicates.length} repeated`,
      },
    ];
    return {
      rows: [ceiling, single, batch, strict, naive],
      notes: [
        `ids/s: ${idsLine(single, 1)}, ${idsLine(batch, 100)}, ${idsLine(strict, 1)}, ${idsLine(naive, 1)}`,
        `CPU per single next: ${cpuLine(single)}`,
      ],
      checks,
    };
  },
};

const idsLine = (m: Measurement, perRequest: number) => `${m.name} ${(m.requestsPerSecond * perRequest).toFixed(0)}`;

function cpuLine(measurement: Measurement): string {
  const parts = [...measurement.cpuMsPerRequest].sort((a, b) => b[1] - a[1]);
  return parts.map(([label, ms]) => `${label} ${ms.toFixed(2)} ms`).join(', ');
}

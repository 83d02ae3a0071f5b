import { randomUUID } from 'node:crypto';
import {
  api,
  controlProcess,
  eventually,
  fetchServiceToken,
  processState,
  stackInfo,
  startUniquenessCheck,
  tokenFor,
  type SidecarInfo,
} from '@mercato/devstack';

const newName = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;

interface Answer {
  status: number;
  headers: Headers;
  body: { values?: number[]; value?: number; type?: string };
}

/** `next` through one replica's own sidecar, so a test knows which replica answered. */
async function nextVia(replica: SidecarInfo, name: string, count: number, token: string): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${replica.httpPort}/v1.0/invoke/sequence/method/sequences/${name}/next?count=${count}`, {
    method: 'POST',
    headers: { 'dapr-api-token': replica.apiToken, authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    // daprd's own error text while an app restarts
  }
  return { status: response.status, headers: response.headers, body };
}

describe('the sequence service under failure', () => {
  let admin: string;
  let service: string;
  const replicas = () => stackInfo().replicas['sequence']!;
  beforeAll(async () => {
    admin = await tokenFor('admin');
    service = await fetchServiceToken(stackInfo().keycloakUrl, stackInfo().serviceClients['categories']!);
  });

  it('when a replica is SIGKILLed mid-run and every replica restarts, then no value is handed out twice and new ones lie above all earlier', async () => {
    const name = newName('kill');
    await api('PUT', `/api/sequences/${name}`, { token: admin, body: { blockSize: 20 } });
    const restartsBefore = (await processState('sequence-1')).restarts;
    const run = startUniquenessCheck({
      clients: 8,
      maxValues: 20_000,
      maxMs: 60_000,
      call: async () => {
        const response = await api<{ values: number[] }>('POST', `/api/sequences/${name}/next?count=3`, { token: service });
        if (response.status === 200) return response.body.values;
        if (response.status === 503) return 'retry';
        throw new Error(`unexpected ${response.status}: ${JSON.stringify(response.body)}`);
      },
    });
    await eventually(async () => run.handedOut(), (n) => n >= 300, 30_000);
    await controlProcess('sequence-1', 'kill');
    await eventually(() => processState('sequence-1'), (s) => s.restarts > restartsBefore, 30_000);
    // The restarted replica hands out values again (through its own sidecar), while the clients keep going.
    const back = await eventually(() => nextVia(replicas()[0]!, name, 1, service), (r) => r.status === 200, 45_000);
    expect(back.status).toBe(200);
    const atRestart = run.handedOut();
    await eventually(async () => run.handedOut(), (n) => n >= atRestart + 300, 30_000);
    run.stop();
    const report = await run.result;
    expect(report.duplicates).toEqual([]);
    expect(report.values.length).toBeGreaterThanOrEqual(600);

    const before = Math.max(...report.values, back.body.values![0]!);
    for (const replica of ['sequence-1', 'sequence-2']) await controlProcess(replica, 'stop');
    for (const replica of ['sequence-1', 'sequence-2']) await controlProcess(replica, 'start');
    for (const replica of replicas()) {
      const after = await eventually(() => nextVia(replica, name, 5, service), (r) => r.status === 200, 45_000);
      expect(after.status).toBe(200);
      expect(Math.min(...after.body.values!)).toBeGreaterThan(before);
    }
  });

  it('when Redis (the lock store) stops, then reserved blocks keep being served, a new block and strict mode are a 503, and service resumes when it returns', async () => {
    const name = newName('redis');
    await api('PUT', `/api/sequences/${name}`, { token: admin, body: { blockSize: 10 } });
    const strict = newName('redis-strict');
    await api('PUT', `/api/sequences/${strict}`, { token: admin, body: { mode: 'strict' } });
    expect((await nextVia(replicas()[0]!, strict, 1, service)).status).toBe(200);
    // Each replica reserves its block (and the next one in the background) before Redis goes.
    for (const replica of replicas()) expect((await nextVia(replica, name, 3, service)).status).toBe(200);
    await eventually(() => api<{ highWaterMark: number }>('GET', `/api/sequences/${name}`, { token: admin }), (r) => r.body.highWaterMark >= 41);

    await controlProcess('redis', 'stop');
    try {
      const served: number[] = [];
      for (const replica of replicas()) {
        const fromMemory = await nextVia(replica, name, 1, service);
        expect(fromMemory.status).toBe(200);
        served.push(...fromMemory.body.values!);
      }
      let refused: Answer | undefined;
      for (let i = 0; i < 100 && !refused; i += 1) {
        const answer = await nextVia(replicas()[0]!, name, 7, service);
        if (answer.status === 200) served.push(...answer.body.values!);
        else refused = answer;
      }
      expect(refused?.status).toBe(503);
      expect(refused?.headers.get('retry-after')).toBeTruthy();
      expect(refused?.body.type).toBe('https://mercato.dev/problems/lock-unavailable');
      // Everything served while the lock store was down came from blocks reserved in the database before.
      const mark = (await api<{ highWaterMark: number }>('GET', `/api/sequences/${name}`, { token: admin })).body.highWaterMark;
      expect(Math.max(...served)).toBeLessThan(mark);
      expect(new Set(served).size).toBe(served.length);
      // Strict mode needs the lock for every call.
      const strictDuringOutage = await nextVia(replicas()[1]!, strict, 1, service);
      expect(strictDuringOutage.status).toBe(503);
      expect(strictDuringOutage.body.type).toBe('https://mercato.dev/problems/lock-unavailable');
    } finally {
      await controlProcess('redis', 'start');
    }
    const resumed = await eventually(() => nextVia(replicas()[0]!, name, 1, service), (r) => r.status === 200, 30_000);
    expect(resumed.status).toBe(200);
  });
});

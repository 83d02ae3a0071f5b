import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, problemTypeBase } from '../src/errors';
import { activityQueryLimits, createActivityReporter, createUserActivityClient, type ActivityReport, type UserActivityClient } from '../src/user-activity';

/** A stand-in for the caller's sidecar: answers by the actor id in the URL. */
describe('the UserActivity client', () => {
  let server: Server;
  let port = 0;
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string; socket: unknown }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, socket: req.socket });
        const id = decodeURIComponent((req.url ?? '').split('/')[4] ?? '');
        if (id === 'slow') return; // never answers
        if (id === 'down') {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"errorCode":"ERR_ACTOR_INVOKE_METHOD","message":"dial tcp 127.0.0.1:4000"}');
          return;
        }
        if (id === 'refused') {
          // What daprd 1.18 makes of an actor's 400: its own 500 naming the status.
          const problem = JSON.stringify({ type: `${problemTypeBase}validation`, status: 400 });
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errorCode: 'ERR_ACTOR_INVOKE_METHOD', message: `error invoke actor method: error from actor service: (400) ${problem}` }));
          return;
        }
        if (id === 'odd') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"allowed":"yes"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url?.endsWith('/consume') ? '{"allowed":false,"remaining":0,"retryAfterSeconds":12}' : '{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = (timeoutMs = 5000) => createUserActivityClient({ daprHost: '127.0.0.1', daprHttpPort: port, daprApiToken: 'sidecar-token', timeoutMs });

  it("when a method is called, then it goes to the sidecar's actor API for that user, with the sidecar token", async () => {
    expect(await client().consume('user/1', { service: 'memes', limit: 5 })).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 12 });
    const call = seen.at(-1)!;
    expect(call).toMatchObject({ method: 'POST', url: '/v1.0/actors/UserActivity/user%2F1/method/consume' });
    expect(call.headers['dapr-api-token']).toBe('sidecar-token');
    expect(JSON.parse(call.body)).toEqual({ service: 'memes', limit: 5 });
  });

  it.each([
    ['does not answer in time', 'slow'],
    ['is down (daprd answers for it)', 'down'],
    ['answers something else', 'odd'],
  ])('when the actor %s, then the call fails with 503 dependency-unavailable', async (_what, user) => {
    const failure = await client(500).consume(user, { service: 'memes', limit: 5 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ status: 503, code: 'activity-unavailable', retryAfterSeconds: 2 });
  });

  it('when the call times out or the sidecar is not there, then the 503 says which', async () => {
    await expect(client(300).stats('slow')).rejects.toMatchObject({ status: 503, detail: 'The activity actor did not answer within 300 ms' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nobody = createUserActivityClient({ daprHost: '127.0.0.1', daprHttpPort: closedPort, daprApiToken: 'sidecar-token' });
    await expect(nobody.stats('user')).rejects.toMatchObject({ status: 503, detail: 'The sidecar could not be reached' });
  });

  it('when calls follow one another, then they reuse kept-alive connections to the sidecar', async () => {
    const before = seen.length;
    for (let i = 0; i < 5; i++) await client().consume('user', { service: 'memes', limit: 5 });
    const connections = new Set(seen.slice(before).map((call) => call.socket));
    expect(connections.size).toBe(1);
    expect(seen.at(-1)?.headers.connection).toBe('keep-alive');
  });

  it("when the actor refuses the input, then it is this service's bug (500), not an outage", async () => {
    await expect(client().report('refused', { service: 'memes', count: 1 })).rejects.toMatchObject({ status: 500, code: 'activity-refused' });
  });
});

describe('the activity reporter', () => {
  const logger = { warn: jest.fn() };
  /** A client that records reports and fails the first `failures` calls with 503. */
  function fakeClient(failures = 0) {
    const reports: Array<{ userId: string; count: number; reportId?: string | undefined; queries?: ActivityReport['queries'] }> = [];
    const failedIds: Array<string | undefined> = [];
    let calls = 0;
    const client: UserActivityClient = {
      async report(userId, input) {
        calls++;
        if (calls <= failures) {
          failedIds.push(input.reportId);
          throw new AppError('dependency-unavailable', { code: 'activity-unavailable' });
        }
        reports.push({ userId, count: input.count, reportId: input.reportId, ...(input.queries && { queries: input.queries }) });
      },
      consume: () => Promise.reject(new Error('unused')),
      stats: () => Promise.reject(new Error('unused')),
    };
    return { client, reports, failedIds };
  }

  it('when requests are recorded, then each user gets one report per flush with the sum', async () => {
    const { client, reports } = fakeClient();
    const reporter = createActivityReporter({ service: 'users', client, logger, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) reporter.record('a');
    reporter.record('b', 3);
    await reporter.stop();
    expect(reports.map(({ userId, count }) => [userId, count])).toEqual([['a', 5], ['b', 3]]);
  });

  it('when a report gets no answer, then it is sent again at the next flush with the same id', async () => {
    const { client, reports, failedIds } = fakeClient(1);
    const reporter = createActivityReporter({ service: 'users', client, logger, flushIntervalMs: 60_000 });
    reporter.record('a', 2);
    await reporter.flush();
    expect(reports).toEqual([]);
    reporter.record('a', 1);
    await reporter.stop();
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ userId: 'a', count: 2 });
    expect(reports[1]).toMatchObject({ userId: 'a', count: 1 });
    expect(reports[0]!.reportId).toBe(failedIds[0]);
    expect(reports[1]!.reportId).not.toBe(reports[0]!.reportId);
  });

  it('when more users wait than it may keep, then the excess is dropped and logged, not kept in memory', async () => {
    const { client, reports } = fakeClient();
    const reporter = createActivityReporter({ service: 'users', client, logger, flushIntervalMs: 60_000, maxPendingUsers: 2 });
    reporter.record('a');
    reporter.record('b');
    reporter.record('c', 4);
    reporter.record('a');
    await reporter.stop();
    expect(reports.map(({ userId, count }) => [userId, count])).toEqual([['a', 2], ['b', 1]]);
    expect(logger.warn).toHaveBeenCalledWith('activity counts dropped', { service: 'users', dropped: 4 });
  });

  it('when searches are recorded, then each user\'s report carries their count and texts, apart from the requests', async () => {
    const { client, reports } = fakeClient();
    const reporter = createActivityReporter({ service: 'memes', client, logger, flushIntervalMs: 60_000 });
    reporter.recordQuery('a', 'grumpy cat');
    reporter.recordQuery('a', 'grumpy cat');
    reporter.recordQuery('a', 'cafe');
    reporter.record('b');
    await reporter.stop();
    expect(reports.map(({ userId, count, queries }) => ({ userId, count, queries }))).toEqual([
      { userId: 'a', count: 0, queries: { count: 3, texts: [{ text: 'grumpy cat', count: 2 }, { text: 'cafe', count: 1 }] } },
      { userId: 'b', count: 1, queries: undefined },
    ]);
  });

  it('when a text is too long, not reportable or one distinct text too many, then the search is counted without it', async () => {
    const { client, reports } = fakeClient();
    const reporter = createActivityReporter({ service: 'memes', client, logger, flushIntervalMs: 60_000 });
    for (let i = 0; i < activityQueryLimits.textsPerReport + 1; i++) reporter.recordQuery('a', `text ${i}`);
    reporter.recordQuery('a', 'x'.repeat(activityQueryLimits.textMaxLength + 1));
    reporter.recordQuery('a', 'tab\there');
    reporter.recordQuery('a', 'text 0');
    await reporter.stop();
    const queries = reports[0]!.queries!;
    expect(queries.count).toBe(activityQueryLimits.textsPerReport + 4);
    expect(queries.texts).toHaveLength(activityQueryLimits.textsPerReport);
    expect(queries.texts[0]).toEqual({ text: 'text 0', count: 2 });
  });

  it('when a report with searches gets no answer, then it is sent again whole with the same id', async () => {
    const { client, reports, failedIds } = fakeClient(1);
    const reporter = createActivityReporter({ service: 'memes', client, logger, flushIntervalMs: 60_000 });
    reporter.recordQuery('a', 'cat');
    await reporter.flush();
    await reporter.stop();
    expect(reports).toEqual([{ userId: 'a', count: 0, reportId: failedIds[0], queries: { count: 1, texts: [{ text: 'cat', count: 1 }] } }]);
  });
});

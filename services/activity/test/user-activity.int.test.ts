import { randomUUID } from 'node:crypto';
import { api, controlProcess, eventually, processState, stackInfo, tokenFor } from '@mercato/devstack';
import { AppError, createUserActivityClient, type UserActivityClient, type UserActivityStats } from '@mercato/platform';

/** Each test its own user, so actors and their reminders never mix between tests. */
const newUser = () => `user-${randomUUID()}`;
const today = () => new Date().toISOString().slice(0, 10);

/** The actor as another service reaches it: through that service's own sidecar (here categories'), with its API token. */
function clientVia(appId: string, timeoutMs = 30_000): UserActivityClient {
  const sidecar = stackInfo().sidecars[appId]!;
  return createUserActivityClient({ daprHost: '127.0.0.1', daprHttpPort: sidecar.httpPort, daprApiToken: sidecar.apiToken, timeoutMs });
}

/** Stats, or undefined while the actor host is restarting (the client's 503). */
async function statsOrNothing(client: UserActivityClient, user: string): Promise<UserActivityStats | undefined> {
  try {
    return await client.stats(user);
  } catch (error) {
    if (error instanceof AppError && error.status === 503) return undefined;
    throw error;
  }
}

/** SIGKILLs every replica of the actor host, as crashes would, and waits until the supervisor has started each again. */
async function crashEveryActorHost(): Promise<void> {
  const names = stackInfo().replicas['activity']!.map((_, i) => `activity-${i + 1}`);
  const before = await Promise.all(names.map((name) => processState(name)));
  await Promise.all(names.map((name) => controlProcess(name, 'kill')));
  await Promise.all(
    names.map((name, i) => eventually(() => processState(name), (s) => s.restarts > before[i]!.restarts && s.pid !== undefined, 30_000)),
  );
}

describe('the UserActivity actor', () => {
  const client = clientVia('categories');

  it('when 1,000 reports for one user arrive concurrently, then the count is exactly 1,000 (one call at a time per actor)', async () => {
    const user = newUser();
    // 200 connections at a time, each sending its reports back to back: always far more calls waiting on the actor
    // than it serves at once, without opening 1,000 sockets to one sidecar (a loaded CI machine had daprd drop some).
    const connections = 200;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        for (let sent = 0; sent < 1000 / connections; sent += 1) await client.report(user, { service: 'memes', count: 1 });
      }),
    );
    const stats = await client.stats(user);
    expect(stats.today).toEqual({ memes: 1000 });
    expect(stats.days[today()]).toEqual({ memes: 1000 });
    expect(stats.lastSeen).not.toBeNull();
  });

  it('when a user consumes past the limit, then the actor answers not allowed with the seconds until the minute ends; another limit counts apart', async () => {
    const user = newUser();
    const free = [];
    for (let i = 0; i < 4; i++) free.push(await client.consume(user, { service: 'memes', limit: 3 }));
    expect(free.map((a) => [a.allowed, a.remaining])).toEqual([[true, 2], [true, 1], [true, 0], [false, 0]]);
    expect(free[3]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(free[3]!.retryAfterSeconds).toBeLessThanOrEqual(60);
    // A premium caller passes a higher limit for another user: the quota is the caller's config, the count the actor's.
    const premium = newUser();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await client.consume(premium, { service: 'memes', limit: 10 }));
    expect(answers.every((a) => a.allowed)).toBe(true);
    expect(answers[3]!.remaining).toBe(6);
  });

  it("when the input is not valid, then the actor's refusal reaches the caller as its own bug (500) and the state is kept", async () => {
    const user = newUser();
    await client.report(user, { service: 'memes', count: 2 });
    await expect(client.report(user, { service: 'memes', count: 0 })).rejects.toMatchObject({ status: 500, code: 'activity-refused' });
    await expect(client.report(user, { service: 'Not A Service', count: 1 })).rejects.toMatchObject({ status: 500, code: 'activity-refused' });
    expect((await client.stats(user)).today).toEqual({ memes: 2 });
  });

  it('when a report is sent again with the same id (a retry after a timeout), then it is counted once', async () => {
    const user = newUser();
    const reportId = randomUUID();
    await client.report(user, { service: 'memes', count: 4, reportId });
    await client.report(user, { service: 'memes', count: 4, reportId });
    await client.report(user, { service: 'memes', count: 1, reportId: randomUUID() });
    expect((await client.stats(user)).today).toEqual({ memes: 5 });
  });

  describe('searches', () => {
    /** A report of searches alone (as the memes service sends them), each text searched `times`. */
    const searched = (texts: Record<string, number>, reportId?: string) => {
      const entries = Object.entries(texts).map(([text, count]) => ({ text, count }));
      const count = entries.reduce((sum, entry) => sum + entry.count, 0);
      return { service: 'memes', count: 0, queries: { count, texts: entries }, ...(reportId && { reportId }) };
    };

    it('when a person searches the same query three times, then it tops their stats', async () => {
      const user = newUser();
      await client.report(user, searched({ 'grumpy cat': 1, 'success kid': 1 }));
      await client.report(user, searched({ 'grumpy cat': 1 }));
      await client.report(user, searched({ 'grumpy cat': 1, 'courage wolf': 1 }));
      const stats = await client.stats(user);
      expect(stats.queries).toEqual({ memes: 5 });
      expect(stats.topQueries?.['memes']?.[0]).toEqual({ query: 'grumpy cat', count: 3, countAtLeast: 3 });
      expect(stats.topQueries?.['memes']?.map((entry) => entry.query)).toEqual(['grumpy cat', 'courage wolf', 'success kid']);
      // Searches are not requests: the request counts stay where they were, and the person is seen.
      expect(stats.today).toEqual({});
      expect(stats.lastSeen).not.toBeNull();
    });

    it('when searches are reported concurrently and one report is retried, then every search is counted once, exactly', async () => {
      const user = newUser();
      const reportId = randomUUID();
      await Promise.all(Array.from({ length: 100 }, (_, i) => client.report(user, searched({ [`text ${i % 40}`]: 1, 'grumpy cat': 1 }))));
      await client.report(user, searched({ 'grumpy cat': 5 }, reportId));
      await client.report(user, searched({ 'grumpy cat': 5 }, reportId));
      const stats = await client.stats(user);
      expect(stats.queries).toEqual({ memes: 205 });
      // 41 distinct texts, 32 tracked: the favourite stays exact, and 10 are shown.
      expect(stats.topQueries?.['memes']?.[0]).toEqual({ query: 'grumpy cat', count: 105, countAtLeast: 105 });
      expect(stats.topQueries?.['memes']).toHaveLength(10);
    });

    it('when a report names more searches in its texts than it counts, then the actor refuses it (the caller\'s bug)', async () => {
      const user = newUser();
      const input = { service: 'memes', count: 0, queries: { count: 1, texts: [{ text: 'cat', count: 2 }] } };
      await expect(client.report(user, input)).rejects.toMatchObject({ status: 500, code: 'activity-refused' });
    });
  });

  it('when every actor host is killed, then the state survives and the roll-up reminder fires again after the restart', async () => {
    const user = newUser();
    await client.report(user, { service: 'users', count: 5 });
    await client.report(user, { service: 'memes', count: 2, queries: { count: 1, texts: [{ text: 'cat', count: 1 }] } });
    const before = await client.stats(user);
    expect(before.today).toEqual({ users: 5, memes: 2 });

    await crashEveryActorHost();
    const restartedAt = new Date().toISOString();

    const after = await eventually(() => statsOrNothing(client, user), (s) => s !== undefined, 60_000);
    expect(after?.today).toEqual({ users: 5, memes: 2 });
    expect(after?.lastSeen).toBe(before.lastSeen);
    // The searches, under a state key of their own, were written in the same transaction.
    expect(after?.queries).toEqual({ memes: 1 });
    expect(after?.topQueries).toEqual({ memes: [{ query: 'cat', count: 1, countAtLeast: 1 }] });

    // New reports after the restart, then the reminder (2 s here; throwawayEnv) rolls everything into the day's total.
    await client.report(user, { service: 'users', count: 1 });
    const rolled = await eventually(
      () => statsOrNothing(client, user),
      (s) => s !== undefined && s.rolledUpAt !== null && s.rolledUpAt > restartedAt && Object.keys(s.pendingMinutes).length === 0,
      60_000,
    );
    expect(rolled?.rolledUpAt! > restartedAt).toBe(true);
    expect(rolled?.pendingMinutes).toEqual({});
    expect(rolled?.days[today()]).toEqual({ users: 6, memes: 2 });
  });
});

describe('the actor host is reachable only through its own sidecar', () => {
  it('when the ingress is asked for the actor host or the actor API, then it has no route (404)', async () => {
    const token = await tokenFor('admin');
    for (const path of ['/api/activity/dapr/config', '/api/activity', '/activity/actors/UserActivity/x/method/stats', '/v1.0/actors/UserActivity/x/method/stats', '/dapr/config']) {
      expect([path, (await api('PUT', path, { token, body: {} })).status]).toEqual([path, 404]);
      expect([path, (await api('GET', path, { token })).status]).toEqual([path, 404]);
    }
  });

  it('when the app port is called without the app token or with a forged one, then it answers 401 and runs nothing', async () => {
    const replica = stackInfo().replicas['activity']![0]!;
    const base = `http://127.0.0.1:${replica.appPort}`;
    const user = newUser();
    const attempts: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['forged', { 'dapr-api-token': 'f'.repeat(48) }],
      ['another app\'s', { 'dapr-api-token': stackInfo().sidecars['categories']!.appApiToken }],
    ];
    for (const [what, headers] of attempts) {
      const method = await fetch(`${base}/actors/UserActivity/${user}/method/report`, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'memes', count: 1 }),
      });
      expect([what, method.status, method.headers.get('content-type')]).toEqual([what, 401, expect.stringContaining('application/problem+json')]);
      const config = await fetch(`${base}/dapr/config`, { headers });
      expect([what, config.status]).toEqual([what, 401]);
    }
    expect((await clientVia('categories').stats(user)).lastSeen).toBeNull();
    // Its own sidecar's token opens it: daprd learns the actor types this way.
    const own = await fetch(`${base}/dapr/config`, { headers: { 'dapr-api-token': replica.appApiToken } });
    expect(await own.json()).toEqual(expect.objectContaining({ entities: ['UserActivity'] }));
  });

  it('when a user-facing route is called without a token or with a forged one, then the ingress still answers 401', async () => {
    expect((await api('GET', '/api/categories')).status).toBe(401);
    expect((await api('GET', '/api/categories', { token: 'e30.e30.forged' })).status).toBe(401);
  });

  it('when another service asks the actor host for its document through Dapr, then it gets the actor\'s contract', async () => {
    const sidecar = stackInfo().sidecars['categories']!;
    const answer = await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/invoke/activity/method/activity/openapi.json`, {
      headers: { 'dapr-api-token': sidecar.apiToken },
    });
    expect(answer.status).toBe(200);
    const document = (await answer.json()) as { info: { title: string }; paths: Record<string, unknown> };
    expect(document.info.title).toContain('activity');
    expect(Object.keys(document.paths)).toContain('/actors/UserActivity/{userId}/method/consume');
  });
});

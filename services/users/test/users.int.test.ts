import { randomUUID } from 'node:crypto';
import { api, eventually, fetchServiceToken, fetchToken, receivedEvents, stackInfo, tokenFor } from '@mercato/devstack';
import { createUserActivityClient } from '@mercato/platform';

interface User {
  id: string;
  email: string;
  name: string;
  status: string;
  customerNumber: number;
  identities: Array<{ issuer: string; subject: string }>;
  login: { username: string; accountId: string } | null;
  version: number;
}
interface Problem {
  type: string;
  status: number;
  errors?: Array<{ path: string; message: string }>;
}
type Answer = User & Omit<Problem, 'status'> & { items: User[]; nextCursor: string | null; total?: number; page?: number };

const unique = () => randomUUID().slice(0, 8);
const newEmail = (what = 'user') => `${what}-${unique()}@example.test`;
const problem = (code: string) => `https://mercato.dev/problems/${code}`;
const call = async (method: string, path: string, options: { role?: 'admin' | 'viewer' | 'editor'; token?: string; body?: unknown } = {}) =>
  api<Answer>(method, path, { token: options.token ?? (await tokenFor(options.role ?? 'admin')), body: options.body });
const create = async (body: Record<string, unknown>) => {
  const created = await call('POST', '/api/users', { body });
  expect(created.status).toBe(201);
  return created.body;
};

describe('users through ingress → daprd (bearer) → app → FerretDB, Keycloak and the sequence service', () => {
  it('when an admin creates a user, then 201 with a customer number from the sequence, ETag, Location and an event', async () => {
    const email = newEmail();
    const created = await call('POST', '/api/users', { body: { email: email.toUpperCase(), name: 'Ada Lovelace' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, name: 'Ada Lovelace', status: 'active', identities: [], login: null, version: 1 });
    expect(created.body.customerNumber).toBeGreaterThanOrEqual(100_000);
    expect(created.headers.get('location')).toBe(`/api/users/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('"1"');
    const events = await eventually(receivedEvents, (all) => all.some((event) => event.subject === created.body.id), 60_000);
    const event = events.find((candidate) => candidate.subject === created.body.id)!;
    expect(event).toMatchObject({ type: 'customer.account.created', source: 'users' });
    // Events carry no personal data: the audit log keeps them for good.
    expect(JSON.stringify(event.data)).not.toContain(email);
  });

  it('when the input is bad or the e-mail taken, then a 4xx problem names it and nothing is stored', async () => {
    const email = newEmail();
    await create({ email, name: 'First' });
    const duplicate = await call('POST', '/api/users', { body: { email: email.toUpperCase(), name: 'Second' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.type).toBe(problem('duplicate-email'));
    const invalid = await call('POST', '/api/users', { body: { email: 'not-an-address', name: 'X', role: 'admin' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.map((issue) => issue.path).sort()).toEqual(['body.email', 'body.role']);
    const listed = await call('GET', `/api/users?email=${encodeURIComponent(email)}&total=true`);
    expect(listed.body.total).toBe(1);
    expect((await call('GET', '/api/users?limit=101')).status).toBe(400);
    expect((await call('GET', '/api/users?cursor=bogus')).status).toBe(400);
    expect((await call('GET', '/api/users?page=1&cursor=abc')).status).toBe(400);
  });

  it('when a person calls /users/me, then their profile is made from the token once, linked, and theirs alone to read', async () => {
    const editor = await tokenFor('editor');
    const first = await call('GET', '/api/users/me', { token: editor });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ email: 'editor@mercato.local', status: 'active' });
    expect(first.body.identities).toEqual([{ issuer: stackInfo().issuer, subject: expect.any(String) }]);
    const again = await call('GET', '/api/users/me', { token: editor });
    expect(again.body.id).toBe(first.body.id);
    const renamed = await api<User>('PATCH', `/api/users/${first.body.id}`, { token: editor, body: { name: 'Ed Itor' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Ed Itor');
    const someoneElse = await create({ email: newEmail(), name: 'Someone' });
    expect((await call('GET', `/api/users/${someoneElse.id}`, { token: editor })).status).toBe(403);
    expect((await call('PATCH', `/api/users/${someoneElse.id}`, { token: editor, body: { name: 'Mine now' } })).status).toBe(403);
    expect((await call('GET', '/api/users', { token: editor })).status).toBe(403);
  });

  it('when a write carries a stale If-Match, then 412 and nothing changes', async () => {
    const user = await create({ email: newEmail(), name: 'Versioned' });
    const changed = await api<User>('PATCH', `/api/users/${user.id}`, { token: await tokenFor('admin'), body: { name: 'V2' } });
    expect(changed.body.version).toBe(2);
    const stale = await fetch(`${stackInfo().ingressUrl}/api/users/${user.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${await tokenFor('admin')}`, 'content-type': 'application/json', 'if-match': '"1"' },
      body: JSON.stringify({ name: 'Lost' }),
    });
    expect(stale.status).toBe(412);
    expect((await call('GET', `/api/users/${user.id}`)).body.name).toBe('V2');
  });

  it('when an identity is linked, then a second user cannot hold it (409)', async () => {
    const identity = { issuer: 'https://crm.example.test', subject: `crm-${unique()}` };
    const first = await create({ email: newEmail(), name: 'Linked' });
    const second = await create({ email: newEmail(), name: 'Other' });
    const linked = await call('POST', `/api/users/${first.id}/identities`, { body: identity });
    expect(linked.status).toBe(200);
    expect(linked.body.identities).toEqual([identity]);
    const service = await fetchServiceToken(stackInfo().keycloakUrl, stackInfo().serviceClients['categories']!);
    const taken = await call('POST', `/api/users/${second.id}/identities`, { token: service, body: identity });
    expect(taken.status).toBe(409);
    expect(taken.body.type).toBe(problem('identity-taken'));
  });

  it("when a user's realm identity names a subject longer than any sign-in's, then their stats are empty, not a 500", async () => {
    const user = await create({ email: newEmail(), name: 'Long subject' });
    const linked = await call('POST', `/api/users/${user.id}/identities`, { body: { issuer: stackInfo().issuer, subject: `s${'x'.repeat(290)}` } });
    expect(linked.status).toBe(200);
    const stats = await call('GET', `/api/users/${user.id}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ lastSeen: null, queries: {}, topQueries: {} });
  });

  it('when users are listed, then page numbers carry the total and cursors walk every user once', async () => {
    const prefix = `Pager ${unique()}`;
    for (let n = 0; n < 5; n += 1) await create({ email: newEmail('pager'), name: `${prefix} ${n}` });
    const name = encodeURIComponent(prefix.toLowerCase());
    const page2 = await call('GET', `/api/users?name=${name}&sort=name&page=2&limit=2`);
    expect(page2.status).toBe(200);
    expect(page2.body).toMatchObject({ page: 2, total: 5, nextCursor: null });
    expect(page2.body.items.map((user) => user.name)).toEqual([`${prefix} 2`, `${prefix} 3`]);
    expect((await call('GET', `/api/users?name=${name}&page=9&limit=2`)).body.items).toEqual([]);
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await call('GET', `/api/users?name=${name}&sort=name&order=desc&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items.map((user) => user.name));
      cursor = page.body.nextCursor ?? '';
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0].map((n) => `${prefix} ${n}`));
    const first = await call('GET', `/api/users?name=${name}&sort=name&limit=2`);
    const otherOrder = await call('GET', `/api/users?name=${name}&sort=email&limit=2&cursor=${first.body.nextCursor}`);
    expect(otherOrder.status).toBe(400);
  });

  it('when a user is made with a login, then it can sign in; deactivated it cannot; reactivated it can again; deleted it is gone', async () => {
    const username = `login-${unique()}`;
    const password = `Temporary-${randomUUID()}`;
    const user = await create({ email: newEmail('login'), name: 'Grace Hopper', login: { username, temporaryPassword: password } });
    expect(user.login).toMatchObject({ username });
    expect(user.identities).toEqual([{ issuer: stackInfo().issuer, subject: user.login!.accountId }]);
    const signIn = () => fetchToken(stackInfo().keycloakUrl, { username, password }).then(() => 'signed in', (error: unknown) => String(error));
    // A temporary password: Keycloak asks for a new one first, so the password grant says the account is not fully set up.
    expect(await signIn()).toMatch(/not fully set up|signed in/i);

    expect((await call('POST', `/api/users/${user.id}/deactivate`)).body.status).toBe('deactivated');
    expect(await signIn()).toMatch(/disabled|invalid/i);
    expect((await call('POST', `/api/users/${user.id}/reactivate`)).body.status).toBe('active');
    expect(await signIn()).toMatch(/not fully set up|signed in/i);

    expect((await call('DELETE', `/api/users/${user.id}`)).status).toBe(204);
    expect((await call('GET', `/api/users/${user.id}`)).status).toBe(404);
    expect(await signIn()).toMatch(/invalid/i);
    const types = (await eventually(receivedEvents, (all) => all.some((event) => event.subject === user.id && event.type === 'customer.account.deleted'), 60_000))
      .filter((event) => event.subject === user.id)
      .map((event) => event.type);
    expect(types).toEqual(['customer.account.created', 'customer.account.deactivated', 'customer.account.reactivated', 'customer.account.deleted']);
  });

  it('when a login cannot be made (the username is taken), then no user is stored', async () => {
    const username = `taken-${unique()}`;
    await create({ email: newEmail('taken'), name: 'First', login: { username, temporaryPassword: `Temporary-${randomUUID()}` } });
    const email = newEmail('second');
    const refused = await call('POST', '/api/users', { body: { email, name: 'Second', login: { username, temporaryPassword: `Temporary-${randomUUID()}` } } });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe(problem('login-taken'));
    expect((await call('GET', `/api/users?email=${encodeURIComponent(email)}&total=true`)).body.total).toBe(0);
  });

  it('when activity is reported for a person, then /users/me/stats and, for an admin, /users/{id}/stats read it from their actor', async () => {
    const viewer = await tokenFor('viewer');
    const me = (await call('GET', '/api/users/me', { token: viewer })).body;
    const subject = me.identities.find((identity) => identity.issuer === stackInfo().issuer)!.subject;
    const service = `test-${unique()}`;
    // As any service reports: through its own sidecar's actor API (here categories').
    const sidecar = stackInfo().sidecars['categories']!;
    const activity = createUserActivityClient({ daprHost: '127.0.0.1', daprHttpPort: sidecar.httpPort, daprApiToken: sidecar.apiToken, timeoutMs: 30_000 });
    await activity.report(subject, { service, count: 3 });
    const mine = await api<{ currentMinute: Record<string, number>; lastSeen: string | null }>('GET', '/api/users/me/stats', { token: viewer });
    expect(mine.status).toBe(200);
    expect(mine.body.currentMinute[service]).toBe(3);
    expect(mine.body.lastSeen).not.toBeNull();
    const asAdmin = await api<{ currentMinute: Record<string, number> }>('GET', `/api/users/${me.id}/stats`, { token: await tokenFor('admin') });
    expect(asAdmin.body.currentMinute[service]).toBe(3);
    expect((await api('GET', `/api/users/${me.id}/stats`, { token: viewer })).status).toBe(403);
  });

  it('when a person calls any service, then the call is counted on their actor within a few seconds (off the request path)', async () => {
    const premium = await tokenFor('premium');
    expect((await api('GET', '/api/categories?limit=1', { token: premium })).status).toBe(200);
    // Every day's total (the minutes not rolled up yet included).
    const counted = (stats: { days: Record<string, Record<string, number>> }) =>
      Object.values(stats.days).reduce((sum, day) => sum + (day['categories'] ?? 0), 0);
    const stats = await eventually(
      async () => (await api<Parameters<typeof counted>[0]>('GET', '/api/users/me/stats', { token: premium })).body,
      (body) => counted(body) >= 1,
    );
    expect(counted(stats)).toBeGreaterThanOrEqual(1);
  });
});

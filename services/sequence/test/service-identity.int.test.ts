import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { api, repoRoot, stackInfo, tokenFor } from '@mercato/devstack';

/**
 * Another service, as a separate Node process: it takes its own client-credentials token with the platform's service
 * identity (openid-client) and calls the sequence service through its own sidecar with the platform's invoker. The
 * event-probe sidecar stands in for that service's daprd.
 */
const callerScript = `
const { createServiceIdentity, createServiceInvoker, principalOf } = require('@mercato/platform');
const env = process.env;
const identity = createServiceIdentity({ issuer: env.ISSUER, clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET });
const invoker = createServiceInvoker({ daprHost: '127.0.0.1', daprHttpPort: Number(env.DAPR_HTTP_PORT), daprApiToken: env.DAPR_API_TOKEN, identity });
const as = env.USER_TOKEN ? principalOf('Bearer ' + env.USER_TOKEN, 'mercato-api') : undefined;
invoker.invoke('sequence', 'sequences/' + env.SEQUENCE + '/next', { method: 'POST', query: { count: 2 }, as })
  .then(async (answer) => {
    const again = await identity.token();
    const first = await identity.token();
    console.log(JSON.stringify({ status: answer.status, body: answer.body, tokenReused: again === first }));
  })
  .catch((error) => console.log(JSON.stringify({ error: { name: error.name, status: error.status, code: error.code } })));
`;

async function callAsAnotherService(sequence: string, userToken?: string): Promise<Record<string, unknown>> {
  const info = stackInfo();
  const probe = info.sidecars['event-probe']!;
  const client = info.serviceClients['categories']!;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', callerScript], {
    cwd: repoRoot,
    timeout: 60_000,
    env: {
      ...process.env,
      ISSUER: info.issuer,
      CLIENT_ID: client.clientId,
      CLIENT_SECRET: client.secret,
      DAPR_HTTP_PORT: String(probe.httpPort),
      DAPR_API_TOKEN: probe.apiToken,
      SEQUENCE: sequence,
      USER_TOKEN: userToken ?? '',
    },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('a call from another service', () => {
  const name = `invoked-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    expect((await api('PUT', `/api/sequences/${name}`, { token: await tokenFor('admin'), body: {} })).status).toBe(201);
  });

  it('when a service calls with its own client-credentials token through Dapr invocation, then it gets its numbers', async () => {
    const outcome = await callAsAnotherService(name);
    expect(outcome).toEqual({ status: 200, body: { name, values: [expect.any(Number), expect.any(Number)] }, tokenReused: true });
  });

  it("when the call carries a viewer's token, then the sequence refuses it with 403, passed through as the caller's error", async () => {
    const outcome = await callAsAnotherService(name, await tokenFor('viewer'));
    expect(outcome).toEqual({ error: { name: 'AppError', status: 403, code: 'forbidden' } });
  });
});

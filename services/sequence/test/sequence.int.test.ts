import { randomUUID } from 'node:crypto';
import { api, eventually, fetchServiceToken, stackInfo, tokenFor } from '@mercato/devstack';

const newName = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const serviceToken = () => fetchServiceToken(stackInfo().keycloakUrl, stackInfo().serviceClients['categories']!);

interface Problem {
  type: string;
  status: number;
  errors?: Array<{ path: string; message: string }>;
}
interface SequenceView {
  name: string;
  mode: string;
  blockSize: number;
  highWaterMark: number;
}

describe('the sequence API', () => {
  let admin: string;
  let service: string;
  beforeAll(async () => {
    [admin, service] = await Promise.all([tokenFor('admin'), serviceToken()]);
  });

  it('when a sequence is created and drawn from, then values start at `start` and GET shows the durable mark', async () => {
    const name = newName('orders');
    const created = await api<SequenceView>('PUT', `/api/sequences/${name}`, { token: admin, body: { start: 1000, blockSize: 50 } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/sequences/${name}`);
    expect(created.body).toMatchObject({ name, mode: 'block', blockSize: 50, highWaterMark: 1000 });

    const first = await api<{ name: string; value: number }>('POST', `/api/sequences/${name}/next`, { token: service });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ name, value: expect.any(Number) });
    expect(first.body.value).toBeGreaterThanOrEqual(1000);
    const many = await api<{ values: number[] }>('POST', `/api/sequences/${name}/next?count=5`, { token: service });
    expect(many.status).toBe(200);
    expect(many.body.values).toHaveLength(5);
    const shown = await api<SequenceView>('GET', `/api/sequences/${name}`, { token: service });
    expect(shown.status).toBe(200);
    expect(shown.body.highWaterMark).toBeGreaterThan(Math.max(first.body.value, ...many.body.values));
  });

  it('when the input is bad, then the answer is a 4xx problem and nothing changes', async () => {
    const name = newName('invoices');
    expect((await api('PUT', `/api/sequences/${name}`, { token: admin, body: { start: 10 } })).status).toBe(201);
    await api('POST', `/api/sequences/${name}/next?count=20`, { token: service });
    const before = (await api<SequenceView>('GET', `/api/sequences/${name}`, { token: admin })).body;

    const refusals: Array<[string, string, unknown, number, string]> = [
      ['POST', `/api/sequences/${newName('missing')}/next`, undefined, 404, 'sequence-not-found'],
      ['GET', `/api/sequences/${newName('missing')}`, undefined, 404, 'sequence-not-found'],
      ['POST', '/api/sequences/Bad%20Name/next', undefined, 400, 'validation'],
      ['POST', `/api/sequences/${name}/next?count=0`, undefined, 400, 'validation'],
      ['POST', `/api/sequences/${name}/next?count=1001`, undefined, 400, 'validation'],
      ['POST', `/api/sequences/${name}/next?count=ten`, undefined, 400, 'validation'],
      ['PUT', `/api/sequences/${name}`, { start: 1.5 }, 400, 'validation'],
      ['PUT', `/api/sequences/${name}`, { start: '20' }, 400, 'validation'],
      ['PUT', `/api/sequences/${name}`, { mode: 'fast' }, 400, 'validation'],
      ['PUT', `/api/sequences/${name}`, { start: 10 }, 409, 'mark-backwards'],
    ];
    for (const [method, path, body, status, type] of refusals) {
      const response = await api<Problem>(method, path, { token: admin, body });
      expect({ method, path, body, status: response.status, type: response.body.type }).toEqual({
        method, path, body, status, type: `https://mercato.dev/problems/${type}`,
      });
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    const after = (await api<SequenceView>('GET', `/api/sequences/${name}`, { token: admin })).body;
    expect(after).toEqual(before);
  });

  it('when start moves forward, then later blocks start there; a viewer may not draw numbers or configure', async () => {
    const name = newName('customers');
    await api('PUT', `/api/sequences/${name}`, { token: admin, body: { blockSize: 5 } });
    const moved = await api<SequenceView>('PUT', `/api/sequences/${name}`, { token: admin, body: { start: 5000, mode: 'strict' } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ mode: 'strict', highWaterMark: 5000 });
    const next = await eventually(
      () => api<{ value: number }>('POST', `/api/sequences/${name}/next`, { token: service }),
      (r) => r.status === 200 && r.body.value >= 5000,
    );
    expect(next.body.value).toBeGreaterThanOrEqual(5000);

    const viewer = await tokenFor('viewer');
    expect((await api('POST', `/api/sequences/${name}/next`, { token: viewer })).status).toBe(403);
    expect((await api('PUT', `/api/sequences/${name}`, { token: service, body: {} })).status).toBe(403);
  });

  it('when strict mode is drawn from by many clients at once, then the values are gap-free and rise for each client', async () => {
    const name = newName('strict');
    await api('PUT', `/api/sequences/${name}`, { token: admin, body: { mode: 'strict', start: 1 } });
    const perClient = await Promise.all(
      Array.from({ length: 6 }, async (_, client) => {
        const got: number[] = [];
        for (let i = 0; i < 6; i += 1) {
          const count = 1 + ((client + i) % 2);
          const response = await api<{ values: number[] }>('POST', `/api/sequences/${name}/next?count=${count}`, { token: service });
          expect(response.status).toBe(200);
          expect(response.body.values).toHaveLength(count);
          got.push(...response.body.values);
        }
        return got;
      }),
    );
    for (const got of perClient) expect(got).toEqual([...got].sort((a, b) => a - b));
    const all = perClient.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect((await api<SequenceView>('GET', `/api/sequences/${name}`, { token: admin })).body.highWaterMark).toBe(all.length + 1);
  });
});

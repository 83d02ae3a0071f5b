import { cachedToken, createServiceIdentity } from '../src/service-identity';

describe('the service token cache', () => {
  it('when a token is asked for again before it is due, then the grant runs once', async () => {
    let clock = 0;
    let grants = 0;
    const token = cachedToken(async () => ({ accessToken: `t${++grants}`, expiresInSeconds: 300 }), 60_000, () => clock);
    expect(await token()).toBe('t1');
    clock = 239_000;
    expect(await token()).toBe('t1');
    clock = 241_000;
    expect(await token()).toBe('t2');
  });

  it('when many callers ask at once, then they share one grant', async () => {
    let grants = 0;
    const token = cachedToken(async () => ({ accessToken: `t${++grants}`, expiresInSeconds: 300 }), 60_000);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => token()));
    expect(new Set(tokens)).toEqual(new Set(['t1']));
    expect(grants).toBe(1);
  });

  it('when a token lives shorter than the margin, then it is still reused for half its life, not fetched per call', async () => {
    let clock = 0;
    let grants = 0;
    const token = cachedToken(async () => ({ accessToken: `t${++grants}`, expiresInSeconds: 30 }), 60_000, () => clock);
    await token();
    clock = 14_000;
    expect(await token()).toBe('t1');
    clock = 16_000;
    expect(await token()).toBe('t2');
  });

  it('when a grant fails, then the failure is not cached', async () => {
    let calls = 0;
    const token = cachedToken(async () => {
      calls += 1;
      if (calls === 1) throw new Error('keycloak down');
      return { accessToken: 'ok', expiresInSeconds: 300 };
    }, 60_000);
    await expect(token()).rejects.toThrow('keycloak down');
    expect(await token()).toBe('ok');
  });

  it('when a token is forgotten, then the next call fetches a new one; forgetting an older one changes nothing', async () => {
    let grants = 0;
    const token = cachedToken(async () => ({ accessToken: `t${++grants}`, expiresInSeconds: 300 }), 60_000);
    expect(await token()).toBe('t1');
    token.forget('t0');
    expect(await token()).toBe('t1');
    token.forget('t1');
    expect(await token()).toBe('t2');
  });
});

describe('the identity issuer rule', () => {
  const options = { clientId: 'service-x', clientSecret: 'secret' };

  it('when the issuer is plain http off loopback, then the identity is refused at start-up', () => {
    expect(() => createServiceIdentity({ ...options, issuer: 'http://keycloak.example/realms/mercato' })).toThrow(/must be https/);
  });

  it('when plain http is allowed explicitly (a local cluster) or the issuer is on loopback or https, then it is accepted', () => {
    expect(() => createServiceIdentity({ ...options, issuer: 'http://keycloak.localtest.me:8180/realms/mercato', allowHttpIssuer: true })).not.toThrow();
    expect(() => createServiceIdentity({ ...options, issuer: 'http://localhost:8180/realms/mercato' })).not.toThrow();
    expect(() => createServiceIdentity({ ...options, issuer: 'https://auth.example.com/realms/mercato' })).not.toThrow();
  });
});

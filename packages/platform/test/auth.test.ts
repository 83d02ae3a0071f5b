import { principalOf } from '../src/auth';

const jwt = (payload: object) =>
  `Bearer ${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

describe('principalOf', () => {
  it('when the token carries realm and client roles, then the principal holds both', () => {
    const principal = principalOf(
      jwt({ sub: 'u1', preferred_username: 'ed', realm_access: { roles: ['viewer'] }, resource_access: { 'mercato-api': { roles: ['editor'] } } }),
      'mercato-api',
    );
    expect(principal?.subject).toBe('u1');
    expect(principal?.username).toBe('ed');
    expect([...(principal?.roles ?? [])].sort()).toEqual(['editor', 'viewer']);
  });

  it("when roles belong to another client, then they don't count", () => {
    const principal = principalOf(jwt({ sub: 'u1', resource_access: { other: { roles: ['admin'] } } }), 'mercato-api');
    expect(principal?.roles.has('admin')).toBe(false);
  });

  it.each([
    ['no header', undefined],
    ['not a bearer token', 'Basic abc'],
    ['a payload that is not JSON', 'Bearer a.bm90LWpzb24.c'],
    ['no subject', jwt({ realm_access: { roles: ['admin'] } })],
  ])('when the request has %s, then there is no principal', (_case, header) => {
    expect(principalOf(header, 'mercato-api')).toBeUndefined();
  });
});

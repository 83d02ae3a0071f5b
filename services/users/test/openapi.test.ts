import { servedRoutes } from '@mercato/devstack';
import type { UserUseCases } from '../src/domain/user-use-cases';
import { apiDocument, userOperations } from '../src/entry-points/api/openapi';
import { userRoutes } from '../src/entry-points/api/routes';

type Responses = Record<string, unknown>;
const operation = (path: string, method: string) =>
  (apiDocument['paths'] as Record<string, Record<string, { responses: Responses }>>)[path]![method]!;

describe('the users OpenAPI document', () => {
  it('when compared with the router, then every served route is documented and nothing else', () => {
    const documented = userOperations.map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(servedRoutes(userRoutes({} as UserUseCases, 'http://issuer.test/realms/x')).sort());
  });

  it('when a user is written, then conflicts (409) and stale versions (412) are documented', () => {
    expect(Object.keys(operation('/users/{id}', 'patch').responses)).toEqual(expect.arrayContaining(['200', '404', '409', '412']));
    expect(Object.keys(operation('/users', 'post').responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
  });
});

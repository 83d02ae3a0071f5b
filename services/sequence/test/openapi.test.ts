import { servedRoutes } from '@mercato/devstack';
import type { SequenceUseCases } from '../src/domain/sequence-use-cases';
import { apiDocument, sequenceApiDocument, sequenceOperations } from '../src/entry-points/api/openapi';
import { sequenceRoutes } from '../src/entry-points/api/routes';

type Responses = Record<string, { headers?: Record<string, unknown> }>;

const limits = { maxCount: 1000, maxBlockSize: 100_000 };
const document = sequenceApiDocument(limits);
const operation = (path: string, method: string) =>
  (document['paths'] as Record<string, Record<string, { responses: Responses; parameters: Array<{ name: string; schema: Record<string, unknown> }> }>>)[path]![method]!;

describe('the sequence OpenAPI document', () => {
  it('when compared with the router, then every served route is documented and nothing else', () => {
    const documented = sequenceOperations(limits).map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(servedRoutes(sequenceRoutes({} as SequenceUseCases, limits)).sort());
  });

  it('when a route can refuse a request for the state it finds, then that status is documented', () => {
    expect(Object.keys(operation('/sequences/{name}/next', 'post').responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409', '503']));
    expect(Object.keys(operation('/sequences/{name}', 'get').responses)).toEqual(expect.arrayContaining(['200', '404']));
    expect(Object.keys(operation('/sequences/{name}', 'put').responses)).toEqual(expect.arrayContaining(['200', '201', '400', '409']));
  });

  it('when count is documented, then it is an integer bounded by the enforced maximum', () => {
    const count = operation('/sequences/{name}/next', 'post').parameters.find((p) => p.name === 'count')!;
    expect(count.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
  });

  it('when a sequence is created, then the Location header is documented', () => {
    expect(Object.keys(operation('/sequences/{name}', 'put').responses['201']!.headers ?? {})).toEqual(['Location']);
  });

  it('when the devstack reads the exported document, then it carries the default limits', () => {
    expect(apiDocument).toEqual(sequenceApiDocument(limits));
  });
});

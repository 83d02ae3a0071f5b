import { servedRoutes } from '@mercato/devstack';
import type { AuditUseCases } from '../src/domain/audit-use-cases';
import { apiDocument, auditApiDocument, auditOperations } from '../src/entry-points/api/openapi';
import { auditRoutes } from '../src/entry-points/api/routes';

type Responses = Record<string, { headers?: Record<string, unknown> }>;

const limits = { maxBatchEvents: 500, maxDataBytes: 8192 };
const document = auditApiDocument(limits);
const operation = (path: string, method: string) =>
  (document['paths'] as Record<string, Record<string, { responses: Responses }>>)[path]![method]!;

describe('the audit OpenAPI document', () => {
  it('when compared with the router, then every served route is documented and nothing else', () => {
    const documented = auditOperations(limits).map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(servedRoutes(auditRoutes({} as AuditUseCases, limits)).sort());
  });

  it('when events are posted, then back-pressure (503), too large (413) and a schema mismatch (422) are documented', () => {
    expect(Object.keys(operation('/audit/events', 'post').responses)).toEqual(expect.arrayContaining(['202', '400', '413', '422', '503']));
  });

  it('when a schema is registered for a new type, then 201 with Location is documented beside 200', () => {
    const responses = operation('/audit/schemas/{type}', 'put').responses;
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(['200', '201', '422']));
    expect(Object.keys(responses['201']!.headers ?? {})).toEqual(['Location']);
  });

  it('when the devstack reads the exported document, then it carries the default limits', () => {
    expect(apiDocument).toEqual(auditApiDocument(limits));
  });
});

import { z } from 'zod';
import type { Role } from './auth';

/** One operation of a service's API, described with the same zod schemas the routes parse with. */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path, e.g. `/categories/{id}`. */
  path: string;
  summary: string;
  /** Roles any of which the caller's token must hold; none for an operation reached through Dapr without a token (actors). */
  roles: readonly Role[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success status, the schema of its body (none for 204) and the headers it always carries (name → meaning). */
  success: { status: number; description: string; schema?: z.ZodType; headers?: Record<string, string> };
  /**
   * Statuses this operation may answer besides the ones every operation has (400, 401, 403, 503; 413 and 415 with a
   * body): every status a route can answer must be listed, or the contract fuzzer fails the build.
   */
  problems?: readonly number[];
  /**
   * Conditional requests (conditional.ts): `read` takes `If-None-Match` and may answer 304, `write` takes `If-Match`
   * and may answer 412; both answer with an `ETag`.
   */
  conditional?: 'read' | 'write';
  /**
   * A PUT that creates when nothing is there yet: it answers 201 with the same body and a `Location` header (this is
   * the header's description) instead of the success status.
   */
  createsWithLocation?: string;
}

/**
 * Where every service's paths are reached through the ingress: `/api/<service>/…` is routed to the app's
 * `/<service>/…`, so a service's document names `/api` as its server and its own paths below it.
 */
export const ingressApiBase = '/api';

export interface ApiDescription {
  title: string;
  version: string;
  description: string;
  operations: readonly Operation[];
  /** Defaults to the ingress (`/api`). */
  servers?: ReadonlyArray<{ url: string; description?: string }>;
}

type JsonSchema = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `type` is stable and may be branched on.',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    traceId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
  required: ['type', 'title', 'status'],
};

const problemText: Record<number, string> = {
  400: 'The request is not valid (each offending field is listed under `errors`)',
  401: 'No valid bearer token (refused by the sidecar before the service runs)',
  403: 'The caller lacks the required role',
  404: 'Not found',
  304: 'Not modified: the `If-None-Match` ETag is current (no body)',
  409: 'Conflicts with the current state',
  412: 'The resource changed since it was read (`If-Match` did not match)',
  413: 'The body is too large',
  415: 'The body is not JSON',
  422: 'The request cannot be processed',
  429: 'Over a quota: try again after `Retry-After` seconds',
  503: 'A dependency is unavailable; retry after `Retry-After` seconds',
};

const parametersOf = (schema: z.ZodObject | undefined, where: 'path' | 'query') => {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...schema } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (object.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema,
    };
  });
};

const conditionalHeaders = (conditional: Operation['conditional']) => {
  if (conditional === 'read') {
    return [{ name: 'If-None-Match', in: 'header', required: false, description: 'ETags the client holds; 304 when one is current', schema: { type: 'string', maxLength: 200 } }];
  }
  if (conditional === 'write') {
    return [{ name: 'If-Match', in: 'header', required: false, description: 'The ETag the change was made against, or `*`; 412 when it is no longer current', schema: { type: 'string', maxLength: 200 } }];
  }
  return [];
};

/** Builds an OpenAPI 3.1 document: one source of truth, since the routes parse input with the very same schemas. */
export function openApiDocument(api: ApiDescription): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of api.operations) {
    // A 204 (a deletion) has no entity to tag.
    const tagged = op.conditional !== undefined && op.success.status !== 204;
    const successHeaders = { ...op.success.headers, ...(tagged ? { ETag: 'The version of the entity, for If-Match / If-None-Match' } : {}) };
    const headers = Object.entries(successHeaders).map(([name, description]) => [name, { description, required: true, schema: { type: 'string' } }]);
    const responses: Record<string, unknown> = {
      [op.success.status]: {
        description: op.success.description,
        ...(headers.length ? { headers: Object.fromEntries(headers) } : {}),
        ...(op.success.schema ? { content: { 'application/json': { schema: jsonSchema(op.success.schema, 'output') } } } : {}),
      },
    };
    if (op.createsWithLocation) {
      responses[201] = {
        description: 'Created',
        headers: { Location: { description: op.createsWithLocation, required: true, schema: { type: 'string' } } },
        ...(op.success.schema ? { content: { 'application/json': { schema: jsonSchema(op.success.schema, 'output') } } } : {}),
      };
    }
    if (op.conditional === 'read') responses[304] = { description: problemText[304], headers: { ETag: { description: 'The current version', schema: { type: 'string' } } } };
    const bearer = op.roles.length > 0;
    const problems = new Set([400, ...(bearer ? [401, 403] : []), 503, ...(op.body ? [413, 415] : []), ...(op.conditional === 'write' ? [412] : []), ...(op.problems ?? [])]);
    for (const status of [...problems].sort((a, b) => a - b)) {
      responses[status] = {
        description: problemText[status] ?? 'Problem',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      description: bearer
        ? `Requires one of the roles: ${op.roles.join(', ')}.`
        : "No bearer token: called through the caller's own Dapr sidecar, with that sidecar's `dapr-api-token`.",
      security: bearer ? [{ bearer: [] }] : [],
      parameters: [...parametersOf(op.params, 'path'), ...parametersOf(op.query, 'query'), ...conditionalHeaders(op.conditional)],
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: api.title, version: api.version, description: api.description },
    servers: api.servers ?? [{ url: ingressApiBase, description: 'The ingress' }],
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from the Keycloak realm `mercato` (audience `mercato-api`)' } },
    },
  };
}

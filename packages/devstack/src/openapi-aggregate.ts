import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';
import type { ServiceSpec } from './services';

/**
 * One OpenAPI document for the whole API, as the ingress serves it at `/api/openapi.json`.
 *
 * Convention (docs/adding-a-service.md): every service's build has `services/<appId>/dist/entry-points/api/openapi.js`
 * exporting `apiDocument`, its OpenAPI 3.1 document with paths under its own base path (`/categories/…`). A new service
 * joins the whole API's document — and the contract fuzzer — by exporting it; nothing here changes.
 */
type Json = Record<string, unknown>;

export interface ServiceApiDocument {
  service: Pick<ServiceSpec, 'appId'> & { ingress: NonNullable<ServiceSpec['ingress']> };
  document: Json;
}

/** Where a service's document is read from, by the convention above. */
export function apiDocumentModule(service: Pick<ServiceSpec, 'appId'>, root = repoRoot): string {
  return path.join(root, 'services', service.appId, 'dist', 'entry-points', 'api', 'openapi.js');
}

/** The service's document, or undefined when it publishes none (e.g. the benchmark's hello-world app). */
export function loadServiceApiDocument(service: Pick<ServiceSpec, 'appId'>, root = repoRoot): Json | undefined {
  const file = apiDocumentModule(service, root);
  if (!existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the convention is a CommonJS build output
  const document = (require(file) as { apiDocument?: unknown }).apiDocument;
  if (!document || typeof document !== 'object') throw new Error(`${file} does not export apiDocument`);
  return document as Json;
}

const componentKinds = ['schemas', 'responses', 'parameters', 'examples', 'requestBodies', 'headers', 'securitySchemes', 'links', 'callbacks'] as const;
const httpMethods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Rewrites every local `$ref` that names a renamed component. */
function renameRefs(value: unknown, renamed: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, renamed));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' ? (renamed.get(item) ?? item) : renameRefs(item, renamed),
    ]),
  );
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Merges the services' documents into one (pure): each path moves from the service's base path to its ingress prefix
 * (`/categories/{id}` → `/api/categories/{id}`, exactly the mapping nginx applies), each operation is tagged with its
 * service, components shared verbatim (the platform's `Problem`, the bearer scheme) appear once, and a component two
 * services define differently under one name is kept per service (`<appId>_<name>`). Paths outside a service's base
 * path are not reachable through the ingress and are left out.
 */
export function mergeOpenApiDocuments(documents: readonly ServiceApiDocument[], ingressBaseUrl: string): Json {
  const paths: Record<string, Json> = {};
  const components: Record<string, Record<string, unknown>> = {};
  const tags: Array<{ name: string; description: string }> = [];
  const operationIds = new Set<string>();

  for (const { service, document } of documents) {
    const renamed = new Map<string, string>();
    const own = (document['components'] ?? {}) as Record<string, Record<string, unknown> | undefined>;
    for (const kind of componentKinds) {
      for (const [name, definition] of Object.entries(own[kind] ?? {})) {
        const existing = components[kind]?.[name];
        if (existing === undefined || sameJson(existing, definition)) continue;
        renamed.set(`#/components/${kind}/${name}`, `#/components/${kind}/${service.appId}_${name}`);
      }
    }
    for (const kind of componentKinds) {
      for (const [name, definition] of Object.entries(own[kind] ?? {})) {
        const target = renamed.has(`#/components/${kind}/${name}`) ? `${service.appId}_${name}` : name;
        (components[kind] ??= {})[target] = renameRefs(definition, renamed);
      }
    }

    const { appPath, prefix } = service.ingress;
    for (const [servicePath, item] of Object.entries((document['paths'] ?? {}) as Record<string, Json>)) {
      const rest = servicePath === appPath ? '' : servicePath.startsWith(`${appPath}/`) ? servicePath.slice(appPath.length) : undefined;
      if (rest === undefined) continue;
      const merged: Json = {};
      for (const [key, value] of Object.entries(renameRefs(item, renamed) as Json)) {
        if (!httpMethods.has(key)) {
          merged[key] = value;
          continue;
        }
        const operation = { ...(value as Json) };
        operation['tags'] = [service.appId];
        const id = operation['operationId'];
        if (typeof id === 'string') {
          operation['operationId'] = operationIds.has(id) ? `${service.appId}_${id}` : id;
          operationIds.add(operation['operationId'] as string);
        }
        merged[key] = operation;
      }
      paths[`${prefix}${rest}`] = merged;
    }
    const info = (document['info'] ?? {}) as Json;
    tags.push({ name: service.appId, description: String(info['description'] ?? info['title'] ?? service.appId) });
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Mercato API',
      version: '1',
      description: 'Every service behind the ingress, one document. Each service also serves its own at `<prefix>/openapi.json`.',
    },
    servers: [{ url: ingressBaseUrl || '/', description: 'The ingress' }],
    tags,
    paths,
    components,
  };
}

/**
 * The whole API's document for the services the devstack runs, reached at `ingressBaseUrl`. Services whose build
 * publishes no document (see the convention above), internal apps the ingress does not route to, and the browser front
 * end are left out.
 */
export function renderAggregateOpenApi(services: readonly ServiceSpec[], ingressBaseUrl: string): Record<string, unknown> {
  const documents = services.flatMap(({ appId, ingress, browserClient }) => {
    // An internal app (no ingress) is not part of the public API, whatever its build holds; nor is a browser front
    // end, whose document describes its pages and is served at its own `/openapi.json`.
    const document = ingress && !browserClient ? loadServiceApiDocument({ appId }) : undefined;
    return ingress && document ? [{ service: { appId, ingress }, document }] : [];
  });
  return mergeOpenApiDocuments(documents, ingressBaseUrl);
}

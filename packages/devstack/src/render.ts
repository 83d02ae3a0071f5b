import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths';

/** Fills `${NAME}` placeholders; an unknown name is an error, never a silent empty string. */
export function fillPlaceholders(text: string, values: Record<string, string>, source: string): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${source}: no value for \${${name}}`);
    return value;
  });
}

export interface DaprResources {
  resourcesDir: string;
  /** Rendered Configuration file for each name asked for (e.g. `config` → dapr/config.yaml). */
  configFiles: Record<string, string>;
}

/**
 * Renders components/*.yaml and dapr/resiliency.yaml into one resources folder (components are scoped to apps inside
 * their own YAML), and each Configuration a service names (dapr/<name>.yaml) beside it: a service may run with a
 * Configuration of its own, e.g. an actor host's.
 */
export function renderDaprResources(outDir: string, values: Record<string, string>, configNames: readonly string[]): DaprResources {
  const resourcesDir = path.join(outDir, 'resources');
  mkdirSync(resourcesDir, { recursive: true });
  const sources = [
    ...readdirSync(path.join(repoRoot, 'components'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => path.join(repoRoot, 'components', f)),
    path.join(repoRoot, 'dapr', 'resiliency.yaml'),
  ];
  for (const source of sources) {
    writeFileSync(path.join(resourcesDir, path.basename(source)), fillPlaceholders(readFileSync(source, 'utf8'), values, source));
  }
  const configFiles: Record<string, string> = {};
  for (const name of new Set(configNames)) {
    const source = path.join(repoRoot, 'dapr', `${name}.yaml`);
    if (!existsSync(source)) throw new Error(`No Dapr Configuration ${source}`);
    const file = path.join(outDir, `${name}.yaml`);
    writeFileSync(file, fillPlaceholders(readFileSync(source, 'utf8'), values, source));
    configFiles[name] = file;
  }
  return { resourcesDir, configFiles };
}

export interface IngressRoute {
  /** Public prefix, e.g. `/api/categories`. */
  prefix: string;
  appId: string;
  /** The app's own path the prefix maps to, e.g. `/categories`. */
  appPath: string;
  /** HTTP ports of every replica's sidecar; the ingress spreads requests over them. */
  sidecarHttpPorts: readonly number[];
  /** The app id's DAPR_API_TOKEN (shared by its replicas' sidecars). */
  sidecarApiToken: string;
}

export interface IngressOptions {
  /** A file served as-is at `/api/openapi.json` (the whole API in one document), when present. */
  openApiFile?: string;
  /** nginx worker processes; defaults to one per core. */
  workers?: number;
}

/** Where the ingress's Lua filters live (see nginx/sidecar_errors.lua). */
const luaDir = path.join(repoRoot, 'packages', 'devstack', 'nginx');
const luaModules = ['/usr/lib/nginx/modules/ndk_http_module.so', '/usr/lib/nginx/modules/ngx_http_lua_module.so'];

const problemJson = (status: number, type: string, title: string, detail: string) =>
  JSON.stringify({ type: `https://mercato.dev/problems/${type}`, title, status, detail });

/** nginx's own errors (it answers them before any app runs), as problem+json instead of its HTML pages. */
const ingressProblems: Array<{ status: number; name: string; body: string; headers?: string }> = [
  { status: 400, name: 'bad_request', body: problemJson(400, 'validation', 'The request is not valid', 'The request line or headers could not be read (control characters in the path or query, and an encoded #, % or ? in the path, are refused)') },
  { status: 404, name: 'not_found', body: problemJson(404, 'not-found', 'Not found', 'No such resource') },
  {
    status: 405,
    name: 'method_not_allowed',
    body: problemJson(405, 'method-not-allowed', 'The method is not allowed on this path', '$request_method is not served here; see Allow'),
    headers: 'add_header Allow $ingress_allow always;',
  },
  { status: 413, name: 'too_large', body: problemJson(413, 'payload-too-large', 'The request body is too large', 'The ingress accepts bodies up to 1 MB') },
  { status: 414, name: 'uri_too_long', body: problemJson(414, 'uri-too-long', 'The URI is too long', 'Shorten the path or query') },
  { status: 431, name: 'headers_too_large', body: problemJson(431, 'headers-too-large', 'Request headers too large', 'Send smaller headers') },
  { status: 503, name: 'unavailable', body: problemJson(503, 'service-unavailable', 'The service is unavailable; try again shortly', 'No replica of the service is answering right now; retry after Retry-After seconds'), headers: 'add_header Retry-After 2 always;' },
];

/**
 * nginx in front of the sidecars. `/api/<service>/…` becomes a Dapr service invocation on one of that service's
 * sidecars — an upstream of every replica's daprd, kept alive — and each daprd calls its own app after the bearer
 * check. `/api/<service>/admin/…` reaches the app's operator routes (`/admin/…`, admin role checked by the app).
 * The sidecar API token never leaves this config.
 */
export function renderNginxConfig(dir: string, listenPort: number, routes: readonly IngressRoute[], options: IngressOptions = {}): string {
  const temp = path.join(dir, 'tmp');
  mkdirSync(temp, { recursive: true });
  chmodSync(temp, 0o1777); // workers run as an unprivileged user when nginx starts as root
  const upstreamName = (appId: string) => `sidecars_${appId.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const upstreams = routes
    .map(
      (r) => `
  upstream ${upstreamName(r.appId)} {
    # The replica with the fewest requests in flight, counted across the workers (the zone): one slowed by a long
    # request or a garbage collection gets fewer new ones, where round-robin would queue every other request behind it.
    zone ${upstreamName(r.appId)} 64k;
    least_conn;
${r.sidecarHttpPorts.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 64;
    keepalive_requests 100000;
    keepalive_timeout 60s;
  }`,
    )
    .join('\n');
  const proxy = (r: IngressRoute, forwardedPrefix: string) =>
    `include ${dir}/proxy.conf; proxy_set_header dapr-api-token "${r.sidecarApiToken}"; proxy_set_header X-Forwarded-Prefix "${forwardedPrefix}";`;
  const site = routes.find((r) => r.prefix === '/');
  const locations = routes
    .filter((r) => r !== site)
    .map((r) => {
      const target = `http://${upstreamName(r.appId)}/v1.0/invoke/${r.appId}/method`;
      return `
    location = ${r.prefix} { proxy_pass ${target}${r.appPath}$is_args$args; ${proxy(r, '/api')} }
    location ${r.prefix}/ { proxy_pass ${target}${r.appPath}/; ${proxy(r, '/api')} }
    location ${r.prefix}/admin/ { proxy_pass ${target}/admin/; ${proxy(r, r.prefix)} }`;
    })
    .join('\n');
  // Internal URIs rather than named locations: an error found while reading the request line (414, a malformed line)
  // leaves no URI to redirect a named location from, and nginx would answer its own HTML 500 instead. (The guards that
  // answer 400/405 therefore sit in the proxied locations, not in the server block an internal redirect runs again.)
  const errorPages = ingressProblems
    .map(
      (p) => `    location = /_ingress/${p.name} {
      internal;
      default_type application/problem+json;
      ${p.headers ?? ''}
      return ${p.status} '${p.body}';
    }`,
    )
    .join('\n');
  writeFileSync(
    path.join(dir, 'proxy.conf'),
    `# daprd refuses (with a 500) a URL holding control characters, even percent-encoded; refuse it here as the 400 it is.
# The services' documents say the same (no control characters in path or query parameters).
if ($request_uri ~ "%(?:[01][0-9A-Fa-f]|7[Ff])") { return 400; }
# daprd also fails a method (the path after /method/) holding "#" or "?" (dapr's NormalizeMethod) or a lone "%" (it
# cannot build the app's URL), with a 500 the ingress would take for a failed replica and stop sending it requests: one
# such URL per replica would take a service offline for everyone. No Mercato path segment can hold any of the three,
# so an encoded one in the path is a 400 here.
if ($request_uri ~ "^[^?]*%(?:23|25|3[Ff])") { return 400; }
# daprd forwards only the standard methods (it would turn an unknown one into a POST): refuse the rest here.
if ($request_method !~ "^(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$") { return 405; }
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $host;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_set_header X-Request-Id $request_id;
proxy_read_timeout 30s;
# A sidecar that cannot be reached, or whose app is down (daprd answers 500 then), is skipped for idempotent requests
# and left out for fail_timeout; a POST is never sent twice.
proxy_next_upstream error timeout http_500 http_502 http_504;
proxy_next_upstream_tries 2;
header_filter_by_lua_block { require('sidecar_errors').header() }
body_filter_by_lua_block { require('sidecar_errors').body() }
`,
  );
  const workers = options.workers ?? Math.max(1, cpus().length);
  const config = `# Rendered by the devstack; edit packages/devstack/src/render.ts instead.
${luaModules.map((m) => `load_module ${m};`).join('\n')}
worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  lua_package_path '${luaDir}/?.lua;;';
  # Which replica's sidecar served each request ($upstream_addr); buffered, so logging costs no write per request.
  # The Allow header of the ingress's own 405s: its one file is read-only; elsewhere, the methods the API uses at all.
  map $request_uri $ingress_allow {
    ~^/api/openapi\\.json(?:\\?|$) "GET, HEAD";
    default "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
  }
  log_format upstreams '$time_iso8601 $request_method "$request_uri" $status $upstream_addr $upstream_status $request_time $request_id';
  access_log ${dir}/access.log upstreams buffer=64k flush=1s;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  client_max_body_size 1m;
  # Room for long but valid query strings (a 512-character cursor of emoji is ~6 KB percent-encoded); past 32 KB, 414.
  large_client_header_buffers 4 32k;
  server_tokens off;
  default_type application/json;
${upstreams}
  server {
    listen 127.0.0.1:${listenPort} backlog=4096;
${ingressProblems.map((p) => `    error_page ${p.status} = /_ingress/${p.name};`).join('\n')}
    error_page 502 504 = /_ingress/unavailable;
${errorPages}
    location = /healthz { return 200 '{"status":"alive"}'; }
${options.openApiFile ? `    location = /api/openapi.json { alias ${options.openApiFile}; }` : ''}
${locations}
${
  site
    ? `    # Everything outside /api is the browser front end (its pages, sign-in, static files); its sidecar runs without
    # bearer, and the path always lands inside the invocation's method part, never on the sidecar's own API.
    location /api/ { return 404; }
    location / { proxy_pass http://${upstreamName(site.appId)}/v1.0/invoke/${site.appId}/method/; ${proxy(site, '')} }`
    : '    location / { return 404; }'
}
  }
}
`;
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, config);
  return file;
}

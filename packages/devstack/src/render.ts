import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  configFile: string;
}

/** Renders components/*.yaml and dapr/resiliency.yaml into one resources folder, and dapr/config.yaml beside it. */
export function renderDaprResources(outDir: string, values: Record<string, string>): DaprResources {
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
  const configSource = path.join(repoRoot, 'dapr', 'config.yaml');
  const configFile = path.join(outDir, 'config.yaml');
  writeFileSync(configFile, fillPlaceholders(readFileSync(configSource, 'utf8'), values, configSource));
  return { resourcesDir, configFile };
}

export interface IngressRoute {
  /** Public prefix, e.g. `/api/categories`. */
  prefix: string;
  appId: string;
  /** The app's own path the prefix maps to, e.g. `/categories`. */
  appPath: string;
  sidecarHttpPort: number;
  sidecarApiToken: string;
}

/**
 * nginx in front of the sidecars: `/api/<service>/…` becomes a Dapr service invocation on that service's sidecar, which
 * runs the bearer check before its app sees anything. The sidecar's API token never leaves this config.
 */
export function renderNginxConfig(dir: string, listenPort: number, routes: readonly IngressRoute[]): string {
  const temp = path.join(dir, 'tmp');
  mkdirSync(temp, { recursive: true });
  chmodSync(temp, 0o1777); // workers run as an unprivileged user when nginx starts as root
  const locations = routes
    .map(
      (r) => `
    location = ${r.prefix} { proxy_pass http://127.0.0.1:${r.sidecarHttpPort}/v1.0/invoke/${r.appId}/method${r.appPath}$is_args$args; include ${dir}/proxy.conf; proxy_set_header dapr-api-token "${r.sidecarApiToken}"; }
    location ${r.prefix}/ { proxy_pass http://127.0.0.1:${r.sidecarHttpPort}/v1.0/invoke/${r.appId}/method${r.appPath}/; include ${dir}/proxy.conf; proxy_set_header dapr-api-token "${r.sidecarApiToken}"; }`,
    )
    .join('\n');
  writeFileSync(
    path.join(dir, 'proxy.conf'),
    `proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $host;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_set_header X-Request-Id $request_id;
proxy_read_timeout 30s;
`,
  );
  const config = `# Rendered by the devstack; edit packages/devstack/src/render.ts instead.
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  client_max_body_size 1m;
  server_tokens off;
  default_type application/json;
  server {
    listen 127.0.0.1:${listenPort};
    # daprd's bearer check answers a bare "Unauthorized"; clients get the platform's problem+json instead.
    proxy_intercept_errors on;
    error_page 401 = @unauthenticated;
    location @unauthenticated {
      default_type application/problem+json;
      add_header WWW-Authenticate 'Bearer realm="mercato"' always;
      return 401 '{"type":"https://mercato.dev/problems/unauthenticated","title":"Authentication is required","status":401,"detail":"Send a valid access token from the mercato realm: Authorization: Bearer <token>"}';
    }
    location = /healthz { return 200 '{"status":"alive"}'; }
${locations}
    location / {
      default_type application/problem+json;
      return 404 '{"type":"https://mercato.dev/problems/not-found","title":"Not found","status":404}';
    }
  }
}
`;
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, config);
  return file;
}

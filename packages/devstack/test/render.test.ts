import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fillPlaceholders, renderNginxConfig } from '../src/render';

describe('fillPlaceholders', () => {
  it('when every placeholder has a value, then all are filled', () => {
    expect(fillPlaceholders('host: "${REDIS_ADDRESS}"', { REDIS_ADDRESS: '127.0.0.1:6379' }, 'x.yaml')).toBe('host: "127.0.0.1:6379"');
  });
  it('when a placeholder has no value, then rendering fails naming it and the file', () => {
    expect(() => fillPlaceholders('${MISSING}', {}, 'cache.yaml')).toThrow('cache.yaml: no value for ${MISSING}');
  });
});

describe('the ingress config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mercato-nginx-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const render = () =>
    readFileSync(
      renderNginxConfig(dir, 8080, [
        { prefix: '/api/categories', appId: 'categories', appPath: '/categories', sidecarHttpPorts: [3501, 3502], sidecarApiToken: 't0ken' },
      ], { workers: 2 }),
      'utf8',
    );

  it('when rendered, then nginx itself accepts the config (nginx -t)', () => {
    const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((candidate) => existsSync(candidate));
    if (!nginx) throw new Error('nginx is not installed: run bash scripts/install-runtime.sh');
    const file = renderNginxConfig(dir, 18080, [
      { prefix: '/api/categories', appId: 'categories', appPath: '/categories', sidecarHttpPorts: [3501, 3502], sidecarApiToken: 't0ken' },
    ], { workers: 1, openApiFile: path.join(dir, 'openapi.json') });
    expect(() => execFileSync(nginx, ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', file], { stdio: 'pipe' })).not.toThrow();
  });

  it('when a service has two replicas, then its upstream lists both sidecars and keeps connections alive', () => {
    const config = render();
    const upstream = /upstream sidecars_categories \{([^}]*)\}/.exec(config)?.[1] ?? '';
    expect(upstream).toContain('server 127.0.0.1:3501');
    expect(upstream).toContain('server 127.0.0.1:3502');
    expect(upstream).toMatch(/keepalive \d+;/);
    expect(config).toContain('worker_processes 2;');
    expect(readFileSync(path.join(dir, 'proxy.conf'), 'utf8')).toContain('proxy_set_header Connection "";');
  });

  it('when a service has two replicas, then each request goes to the sidecar with the fewest in flight across workers', () => {
    const upstream = /upstream sidecars_categories \{([^}]*)\}/.exec(render())?.[1] ?? '';
    expect(upstream).toMatch(/zone sidecars_categories \d+k;/);
    // nginx requires the balancing method before keepalive, or keepalive wraps round-robin instead.
    expect(upstream.indexOf('least_conn;')).toBeGreaterThan(-1);
    expect(upstream.indexOf('least_conn;')).toBeLessThan(upstream.indexOf('keepalive'));
  });

  it('when rendered, then API, operator routes and nginx\'s own errors are all mapped', () => {
    const config = render();
    expect(config).toContain('location /api/categories/ { proxy_pass http://sidecars_categories/v1.0/invoke/categories/method/categories/;');
    expect(config).toContain('location /api/categories/admin/ { proxy_pass http://sidecars_categories/v1.0/invoke/categories/method/admin/;');
    for (const status of [400, 404, 405, 413, 414]) expect(config).toMatch(new RegExp(`error_page ${status} = /_ingress/`));
    expect(config).toContain('error_page 502 504 = /_ingress/unavailable;');
  });
});

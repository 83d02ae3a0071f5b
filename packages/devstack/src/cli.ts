#!/usr/bin/env node
import path from 'node:path';
import { claimDataDir } from './data-dir';
import { loadDemoCatalog, reusedToken } from './demo-catalog';
import { loadDemoMemes } from './demo-memes';
import { demoUsers, fetchToken, testClient } from './keycloak';
import { repoRoot } from './paths';
import { tcpOpen } from './wait';
import { platformServices } from './services';
import { startStack } from './stack';

const started = Date.now();
const say = (message: string) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[mercato ${seconds}s] ${message}\n`);
};

async function portFree(port: number): Promise<boolean> {
  return !(await tcpOpen(port)());
}

async function up(): Promise<void> {
  const runDir = process.env['MERCATO_DATA_DIR'] ?? path.join(repoRoot, '.data', 'dev');
  const release = claimDataDir(runDir);
  process.once('exit', release);
  say(`data and logs in ${runDir}`);
  const ingressPort = Number(process.env['MERCATO_INGRESS_PORT'] ?? 8080);
  const keycloakPort = Number(process.env['MERCATO_KEYCLOAK_PORT'] ?? 8180);
  for (const [name, port] of [['MERCATO_INGRESS_PORT', ingressPort], ['MERCATO_KEYCLOAK_PORT', keycloakPort]] as const) {
    if (!(await portFree(port))) {
      throw new Error(`Port ${port} is already in use (is the platform already running?). Free it or set ${name}.`);
    }
  }
  const stack = await startStack({
    runDir,
    persistent: true,
    ingressPort,
    keycloakPort,
    logLevel: process.env['LOG_LEVEL'] ?? 'http',
    progress: say,
  });

  // Ctrl-C is handled by the stack's supervisor: it stops every child, newest first, then exits.

  if (process.env['MERCATO_DEMO_DATA'] === '0') say('demo catalog skipped (MERCATO_DEMO_DATA=0)');
  else await loadDemoData(stack);

  const users = demoUsers.map((u) => `${u.username}/${u.password}`).join(', ');
  // Each replica's Prometheus endpoint, on loopback beside its app: never through the ingress.
  const metrics = Object.values(stack.replicas)
    .flat()
    .filter((sidecar) => sidecar.metricsPort !== undefined)
    .map((sidecar) => `${sidecar.appId}-${sidecar.replica} http://127.0.0.1:${sidecar.metricsPort}/metrics`)
    .join('\n                    ');
  process.stdout.write(`
Mercato is running.
  Web               ${stack.ingressUrl}/   (sign in with a demo login below)
  Ingress (API)     ${stack.ingressUrl}/api/openapi.json describes it all: ${platformServices.map((s) => `${stack.ingressUrl}${s.ingress.prefix}`).join(', ')}
  Keycloak          ${stack.keycloakUrl}   (admin console: admin/admin; realm "mercato")
  Token issuer      ${stack.issuer}
  Demo logins       ${users}   (local use only)
  Logs              ${path.join(runDir, 'logs')}   (restarts of crashed processes: supervisor.log)
  Metrics           ${metrics}

Try it:
  TOKEN=$(curl -s -d grant_type=password -d client_id=${testClient.id} -d client_secret=${testClient.secret} \\
          -d username=editor -d password=editor ${stack.keycloakUrl}/realms/mercato/protocol/openid-connect/token | jq -r .access_token)
  curl -s -H "Authorization: Bearer $TOKEN" ${stack.ingressUrl}/api/categories
  curl -s -H "Authorization: Bearer $TOKEN" '${stack.ingressUrl}/api/products?q=mascara'

Press Ctrl-C to stop everything.
`);
}

/**
 * The demo catalog (demo/catalog), loaded through the ingress as the demo editor, so a first search finds real
 * products. Idempotent: on a kept data folder it creates nothing. A failure is printed and the platform stays up.
 */
async function loadDemoData(stack: { ingressUrl: string; keycloakUrl: string }): Promise<void> {
  const editor = demoUsers.find((user) => user.role === 'editor')!;
  say('loading the demo catalog and memes through the API (MERCATO_DEMO_DATA=0 skips it)');
  try {
    await loadDemoCatalog({
      ingressUrl: stack.ingressUrl,
      token: reusedToken(() => fetchToken(stack.keycloakUrl, editor)),
      progress: say,
    });
  } catch (error) {
    say(`demo catalog not loaded: ${error instanceof Error ? error.message : String(error)}`);
  }
  const admin = demoUsers.find((user) => user.role === 'admin')!;
  try {
    await loadDemoMemes({ ingressUrl: stack.ingressUrl, token: reusedToken(() => fetchToken(stack.keycloakUrl, admin)), progress: say });
  } catch (error) {
    say(`demo memes not loaded: ${error instanceof Error ? error.message : String(error)}`);
  }
}

up().catch((error: unknown) => {
  process.stderr.write(`\n[mercato] could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

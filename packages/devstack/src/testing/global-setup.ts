import { readdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { loadDemoMemes } from '../demo-memes';
import { fetchToken } from '../keycloak';
import { freePort } from '../ports';
import { startStack, type Sidecar, type Stack } from '../stack';
import { startEventProbe, type EventProbe } from './event-probe';
import type { StackInfo } from './stack-info';

interface Running {
  stack: Stack;
  probe: EventProbe;
  control: Server;
}

const key = '__mercatoIntegrationStack';

/**
 * Starts the real platform once per test run (not per file: the machine has two cores) on ephemeral ports with
 * throw-away data, and publishes its addresses to the test files through MERCATO_STACK.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const log = (message: string) =>
    process.stdout.write(`\n[integration ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
  removeLeftoversOfDeadRuns();
  const stack = await startStack({
    runDir: path.join(tmpdir(), `${runDirPrefix}${process.pid}`),
    persistent: false,
    extraSidecars: ['event-probe'],
    logLevel: process.env['LOG_LEVEL'] ?? 'warn',
    progress: log,
  });
  const probe = startEventProbe(stack.sidecars['event-probe']!);
  await Promise.race([
    probe.ready,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the event probe was not subscribed within 30 s; see daprd-event-probe.log')), 30_000).unref(),
    ),
  ]).catch(async (error: unknown) => {
    probe.close();
    await stack.stop();
    throw error;
  });

  // The meme corpus, as `npm start` loads it: memes tests and the contract fuzzer search real memes and bases.
  await loadDemoMemes({ ingressUrl: stack.ingressUrl, token: () => fetchToken(stack.keycloakUrl, { username: 'admin', password: 'admin' }) });
  log('demo memes imported');

  // Lets a test stop and restart a real piece (e.g. FerretDB) to exercise outages; loopback only.
  const control = express();
  control.post('/processes/:name/:action', async (req, res) => {
    try {
      if (req.params.action === 'stop') await stack.stopProcess(req.params.name);
      else if (req.params.action === 'start') await stack.startProcess(req.params.name);
      else if (req.params.action === 'kill') stack.killProcess(req.params.name);
      else throw new Error(`unknown action ${req.params.action}`);
      res.status(204).end();
    } catch (error) {
      res.status(500).json({ error: String(error) });
    }
  });
  control.get('/processes/:name', (req, res) => {
    res.json({ name: req.params.name, pid: stack.pidOf(req.params.name), restarts: stack.restartsOf(req.params.name) });
  });
  control.get('/events', (_req, res) => {
    res.json(probe.received());
  });
  const controlPort = await freePort();
  const server = await new Promise<Server>((resolve) => {
    const s = control.listen(controlPort, '127.0.0.1', () => resolve(s));
  });

  const info: StackInfo = {
    ingressUrl: stack.ingressUrl,
    keycloakUrl: stack.keycloakUrl,
    issuer: stack.issuer,
    mongodbUri: stack.mongodbUri,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    runDir: stack.runDir,
    sidecars: Object.fromEntries(Object.entries(stack.sidecars).map(([id, s]) => [id, sidecarInfo(s)])),
    replicas: Object.fromEntries(Object.entries(stack.replicas).map(([id, list]) => [id, list.map(sidecarInfo)])),
    serviceClients: stack.serviceClients,
  };
  process.env['MERCATO_STACK'] = JSON.stringify(info);
  (globalThis as Record<string, unknown>)[key] = { stack, probe, control: server } satisfies Running;
  log('platform ready\n');
}

export async function stopIntegrationStack(): Promise<void> {
  const running = (globalThis as Record<string, unknown>)[key] as Running | undefined;
  if (!running) return;
  await new Promise<void>((resolve) => running.control.close(() => resolve()));
  running.probe.close();
  await running.stack.stop();
  if (process.env['MERCATO_KEEP_TEST_DATA']) {
    process.stdout.write(`\n[integration] data and logs kept in ${running.stack.runDir}\n`);
  } else {
    rmSync(running.stack.runDir, { recursive: true, force: true });
  }
}

const sidecarInfo = (s: Sidecar) => ({
  httpPort: s.httpPort,
  apiToken: s.apiToken,
  appPort: s.appPort ?? 0,
  appApiToken: s.appApiToken,
  metricsPort: s.metricsPort ?? 0,
  podName: s.podName,
});

const runDirPrefix = 'mercato-it-';

/** Throw-away folders of earlier runs whose process is gone (killed before its teardown ran). */
function removeLeftoversOfDeadRuns() {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(runDirPrefix)) continue;
    const pid = Number(name.slice(runDirPrefix.length));
    if (Number.isInteger(pid) && !isAlive(pid)) rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

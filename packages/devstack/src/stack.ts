import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiAudience, configureBrowserClient, fetchToken, importRealm, keycloakLaunch, serviceClientId, setServiceClientSecrets, type ServiceClient } from './keycloak';
import { renderAggregateOpenApi } from './openapi-aggregate';
import { repoRoot, runtimeBinaries, type RuntimeBinaries } from './paths';
import { freePort } from './ports';
import { Supervisor, type ProcessSpec, type SupervisedProcess } from './processes';
import { renderDaprResources, renderNginxConfig, type IngressRoute } from './render';
import { allPlatformServices, replicaName, replicasOf, type ServiceSpec } from './services';
import { httpOk, tcpOpen, waitUntil } from './wait';

export interface StackOptions {
  /** Everything of this run lives here: databases, logs, rendered resources. */
  runDir: string;
  /** Keep data between runs (npm start) or throw it away (tests). */
  persistent: boolean;
  /** Fixed ports for a stable URL and token issuer (npm start); ephemeral when absent (tests). */
  ingressPort?: number;
  keycloakPort?: number;
  services?: readonly ServiceSpec[];
  /** Sidecars for code that runs outside the devstack (e.g. the tests' event subscriber); no app channel. */
  extraSidecars?: readonly string[];
  logLevel?: string;
  /**
   * FerretDB's PostgreSQL backend instead of the embedded SQLite one, e.g. postgres://user@127.0.0.1:5432/ferretdb.
   * Defaults to MERCATO_FERRETDB_POSTGRESQL_URL, so npm start, the tests and the benchmarks all honour it.
   */
  ferretdbPostgresqlUrl?: string;
  progress?: (message: string) => void;
}

export interface Sidecar {
  appId: string;
  /** 1-based replica number within its app id. */
  replica: number;
  httpPort: number;
  grpcPort: number;
  /** Token a caller presents to this daprd's API (shared by the app id's replicas). */
  apiToken: string;
  /** Token this daprd presents to its app (shared by the app id's replicas). */
  appApiToken: string;
  /** The app's port; undefined for a sidecar without an app. */
  appPort: number | undefined;
  /** Where the app serves Prometheus `/metrics` (loopback, never through the ingress); undefined without an app. */
  metricsPort: number | undefined;
  /**
   * The replica's instance name, as a pod's name in a cluster: daprd reads it as `POD_NAME` (components use it as
   * `{podName}`, e.g. a consumer group of its own), and the app gets the same value. Unique per platform run.
   */
  podName: string;
}

export interface Stack {
  ingressUrl: string;
  keycloakUrl: string;
  issuer: string;
  mongodbUri: string;
  /** The first replica's sidecar of every app id (and of each extra sidecar). */
  sidecars: Record<string, Sidecar>;
  /** Every replica's sidecar, by app id. */
  replicas: Record<string, Sidecar[]>;
  /** Each service's own Keycloak client (client credentials), by app id; the secret is new on every start. */
  serviceClients: Record<string, ServiceClient>;
  runDir: string;
  /** Names of every supervised process (`redis`, `categories-1`, `daprd-categories-1`, …). */
  processNames(): string[];
  pidOf(name: string): number | undefined;
  /** How often the supervisor restarted it after a crash. */
  restartsOf(name: string): number;
  /** Stops one named piece on purpose (e.g. `ferretdb`), keeping its port and data; it stays down. */
  stopProcess(name: string): Promise<void>;
  /** Starts it again, same port and data, and waits until it is healthy. */
  startProcess(name: string): Promise<void>;
  /** SIGKILLs it as a crash would; the supervisor restarts it with back-off. */
  killProcess(name: string): void;
  /**
   * Environment laid over an app's own from its next start on (`undefined` drops it), so stopProcess + startProcess
   * runs it with another setting on the same ports and data, e.g. a benchmark's ACTIVITY_REPORTING off against on.
   */
  setAppEnv(name: string, env: Readonly<Record<string, string>> | undefined): void;
  stop(): Promise<void>;
}

const token = () => randomBytes(24).toString('hex');

export async function startStack(options: StackOptions): Promise<Stack> {
  const progress = options.progress ?? (() => undefined);
  const bin: RuntimeBinaries = runtimeBinaries();
  const services = options.services ?? allPlatformServices;
  const ferretdbPostgresqlUrl = options.ferretdbPostgresqlUrl ?? process.env['MERCATO_FERRETDB_POSTGRESQL_URL'];
  const dirs = {
    logs: path.join(options.runDir, 'logs'),
    redis: path.join(options.runDir, 'redis'),
    ferretdb: path.join(options.runDir, 'ferretdb'),
    keycloak: path.join(options.runDir, 'keycloak'),
    scheduler: path.join(options.runDir, 'scheduler'),
    dapr: path.join(options.runDir, 'dapr'),
    nginx: path.join(options.runDir, 'nginx'),
  };
  if (!options.persistent) rmSync(options.runDir, { recursive: true, force: true });
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(path.join(dirs.ferretdb, 'data'), { recursive: true });

  const supervisor = new Supervisor(
    dirs.logs,
    (what) => progress(what === 'stopped' ? 'every process stopped' : `${what}: stopping every process`),
    (message) => progress(message),
  );
  const pieces = new Map<string, SupervisedProcess>();
  const startPiece = async (spec: ProcessSpec) => {
    pieces.set(spec.name, await supervisor.supervise(spec));
  };
  const appEnvOverrides = new Map<string, Readonly<Record<string, string>>>();
  const piece = (name: string) => {
    const found = pieces.get(name);
    if (!found) throw new Error(`no process named ${name}; known: ${[...pieces.keys()].join(', ')}`);
    return found;
  };

  try {
    const port = {
      redis: await freePort(),
      ferretdb: await freePort(),
      ferretdbDebug: await freePort(),
      keycloak: options.keycloakPort ?? (await freePort()),
      keycloakManagement: await freePort(),
      placement: await freePort(),
      placementHealth: await freePort(),
      placementRaft: await freePort(),
      scheduler: await freePort(),
      schedulerHealth: await freePort(),
      schedulerEtcdClient: await freePort(),
      schedulerEtcdPeer: await freePort(),
      ingress: options.ingressPort ?? (await freePort()),
    };
    // One secret per service and start: set in Keycloak below, so a kept realm never keeps an old one.
    const serviceClients: Record<string, ServiceClient> = Object.fromEntries(
      // A browser front end acts only for people, with their tokens: it gets no identity of its own.
      services.filter((s) => !s.browserClient).map((s) => [s.appId, { clientId: serviceClientId(s.appId), secret: token() }]),
    );
    // A browser front end signs people in through its own client, which must send them back to this ingress.
    const siteUrls = [`http://localhost:${port.ingress}`, `http://127.0.0.1:${port.ingress}`];
    const browserClientSecrets: Record<string, string> = Object.fromEntries(
      services.flatMap((s) => (s.browserClient ? [[s.browserClient, token()]] : [])),
    );
    // Shared by a front end's replicas (a cookie one signs, another reads); new on every start, like a rotated Secret.
    const sessionSecret = randomBytes(32).toString('base64url');
    const keycloak = keycloakLaunch({
      dataDir: dirs.keycloak,
      httpPort: port.keycloak,
      managementPort: port.keycloakManagement,
      persistent: options.persistent,
    });

    progress(`starting Redis, FerretDB, Keycloak ${bin.versions.keycloak}, Dapr ${bin.versions.dapr} placement and scheduler`);
    const infrastructure: ProcessSpec[] = [
      {
        name: 'redis',
        launch: () =>
          supervisor.start('redis', bin.redisServer, [
            '--bind', '127.0.0.1', '--port', String(port.redis), '--dir', dirs.redis,
            '--save', options.persistent ? '60 1' : '', '--appendonly', options.persistent ? 'yes' : 'no',
            '--protected-mode', 'yes', '--daemonize', 'no',
          ]),
        waitReady: (p) => waitUntil('redis', tcpOpen(port.redis), { timeoutMs: 15_000, process: p }),
      },
      {
        name: 'ferretdb',
        launch: () =>
          supervisor.start('ferretdb', bin.ferretdb, [
            ...(ferretdbPostgresqlUrl
              ? ['--handler=postgresql', `--postgresql-url=${ferretdbPostgresqlUrl}`]
              : ['--handler=sqlite', `--sqlite-url=file:${path.join(dirs.ferretdb, 'data')}/`]),
            `--listen-addr=127.0.0.1:${port.ferretdb}`, `--debug-addr=127.0.0.1:${port.ferretdbDebug}`,
            `--state-dir=${dirs.ferretdb}`, '--telemetry=disable', '--log-level=warn', '--log-format=json',
          ]),
        waitReady: (p) =>
          waitUntil('ferretdb', httpOk(`http://127.0.0.1:${port.ferretdbDebug}/debug/livez`), { timeoutMs: 20_000, process: p }),
      },
      {
        name: 'keycloak',
        launch: () => supervisor.start('keycloak', path.join(bin.keycloakHome, 'bin', 'kc.sh'), keycloak.args, { env: keycloak.env }),
        waitReady: async (p) => {
          await waitUntil('keycloak', httpOk(keycloak.healthUrl), { timeoutMs: 240_000, intervalMs: 1000, process: p });
          // After a restart with an in-memory database (tests) the realm is gone: importing again brings it back.
          const outcome = await importRealm(`http://127.0.0.1:${port.keycloak}`);
          progress(outcome === 'imported' ? 'realm "mercato" imported' : 'realm "mercato" already present');
          await setServiceClientSecrets(`http://127.0.0.1:${port.keycloak}`, Object.values(serviceClients));
          for (const [clientId, secret] of Object.entries(browserClientSecrets)) {
            await configureBrowserClient(`http://127.0.0.1:${port.keycloak}`, clientId, secret, siteUrls);
          }
        },
      },
      {
        name: 'placement',
        launch: () =>
          supervisor.start('placement', bin.placement, [
            `--port=${port.placement}`, '--listen-address=127.0.0.1', `--healthz-port=${port.placementHealth}`,
            '--healthz-listen-address=127.0.0.1', `--initial-cluster=dapr-placement-0=127.0.0.1:${port.placementRaft}`,
            '--enable-metrics=false', '--log-as-json',
          ]),
        waitReady: (p) =>
          waitUntil('placement', httpOk(`http://127.0.0.1:${port.placementHealth}/healthz`), { timeoutMs: 30_000, process: p }),
      },
      {
        name: 'scheduler',
        launch: () =>
          supervisor.start('scheduler', bin.scheduler, [
            `--port=${port.scheduler}`, '--listen-address=127.0.0.1', `--healthz-port=${port.schedulerHealth}`,
            '--healthz-listen-address=127.0.0.1', `--etcd-data-dir=${dirs.scheduler}`,
            `--etcd-client-port=${port.schedulerEtcdClient}`, '--etcd-client-listen-address=127.0.0.1',
            `--etcd-initial-cluster=dapr-scheduler-server-0=http://127.0.0.1:${port.schedulerEtcdPeer}`,
            '--enable-metrics=false', '--log-as-json',
          ]),
        waitReady: (p) =>
          waitUntil('scheduler', httpOk(`http://127.0.0.1:${port.schedulerHealth}/healthz`), { timeoutMs: 60_000, process: p }),
      },
    ];
    await Promise.all(infrastructure.map(startPiece));
    progress('infrastructure healthy');

    const resources = renderDaprResources(
      dirs.dapr,
      {
        REDIS_ADDRESS: `127.0.0.1:${port.redis}`,
        OIDC_ISSUER: keycloak.issuer,
        OIDC_AUDIENCE: apiAudience,
        OIDC_JWKS_URL: `http://127.0.0.1:${port.keycloak}/realms/mercato/protocol/openid-connect/certs`,
        NAME_RESOLUTION_DB: path.join(dirs.dapr, 'name-resolution.db'),
      },
      [defaultDaprConfig, ...services.map((s) => s.daprConfig ?? defaultDaprConfig)],
    );
    const mongodbUri = `mongodb://127.0.0.1:${port.ferretdb}/`;

    const apps = [
      ...services.map((s) => ({ appId: s.appId, service: s as ServiceSpec | undefined, replicas: replicasOf(s) })),
      ...(options.extraSidecars ?? []).map((appId) => ({ appId, service: undefined, replicas: 1 })),
    ];
    const replicas: Record<string, Sidecar[]> = {};
    // Pod names differ between runs, so a run never inherits a consumer group an earlier run left in Redis.
    const runSuffix = randomBytes(3).toString('hex');
    for (const app of apps) {
      // Replicas of one app id share its tokens, as the pods of one Deployment share its Secret.
      const apiToken = token();
      const appApiToken = token();
      replicas[app.appId] = [];
      for (let replica = 1; replica <= app.replicas; replica++) {
        replicas[app.appId]!.push({
          appId: app.appId,
          replica,
          httpPort: await freePort(),
          grpcPort: await freePort(),
          apiToken,
          appApiToken,
          appPort: app.service ? await freePort() : undefined,
          metricsPort: app.service ? await freePort() : undefined,
          podName: `${replicaName(app.appId, replica)}-${runSuffix}`,
        });
      }
    }
    const sidecars = Object.fromEntries(Object.entries(replicas).map(([appId, list]) => [appId, list[0]!]));

    const describe = (a: (typeof apps)[number]) => (a.replicas > 1 ? `${a.appId} ×${a.replicas}` : a.appId);
    progress(`starting ${apps.map(describe).join(', ')} with their sidecars`);
    const replicaStarts = apps.flatMap((app) =>
      replicas[app.appId]!.map(async (sidecar) => {
        const name = app.service ? replicaName(app.appId, sidecar.replica) : app.appId;
        const configFile = resources.configFiles[app.service?.daprConfig ?? defaultDaprConfig]!;
        if (app.service) await startPiece(appProcess(name, app.service, sidecar));
        await startPiece(sidecarProcess(`daprd-${name}`, sidecar, await freePort(), resources.resourcesDir, configFile));
      }),
    );

    /** A service's signing keys: created once per data folder (kept across `npm start`s, like a cluster's Secret). */
    function signingKeyEnv(service: ServiceSpec): Record<string, string> {
      const env: Record<string, string> = {};
      for (const name of service.signingKeyFiles ?? []) {
        const file = path.join(options.runDir, 'secrets', `${service.appId}-${name.toLowerCase().replace(/_/g, '-')}.pem`);
        if (!existsSync(file)) {
          mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
          const { privateKey } = generateKeyPairSync('ed25519');
          writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
        }
        env[name] = file;
      }
      return env;
    }

    // Each replica: its app, then its daprd (which probes the app's port at start).
    function appProcess(name: string, service: ServiceSpec, sidecar: Sidecar): ProcessSpec {
      return {
        name,
        launch: () =>
          supervisor.start(name, process.execPath, ['--enable-source-maps', path.join(repoRoot, service.main)], {
            cwd: repoRoot,
            env: {
              ...process.env,
              SERVICE_NAME: service.appId,
              APP_HOST: '127.0.0.1',
              APP_PORT: String(sidecar.appPort),
              // `http` keeps one request line per request, so a traceId from an error body can be found in the log.
              LOG_LEVEL: options.logLevel ?? 'http',
              MONGODB_URI: mongodbUri,
              ...(service.database ? { MONGODB_DATABASE: service.database } : {}),
              DAPR_HOST: '127.0.0.1',
              DAPR_HTTP_PORT: String(sidecar.httpPort),
              DAPR_GRPC_PORT: String(sidecar.grpcPort),
              DAPR_API_TOKEN: sidecar.apiToken,
              APP_API_TOKEN: sidecar.appApiToken,
              POD_NAME: sidecar.podName,
              METRICS_PORT: String(sidecar.metricsPort),
              // Every request a person makes is counted on their actor when the actor host runs beside the services.
              ...(services.some((s) => s.appId === 'activity') && service.appId !== 'activity' ? { ACTIVITY_REPORTING: 'on' } : {}),
              // Only for what Dapr's API cannot do (products: its own consumer group's start position); see docs/search.md.
              REDIS_URL: `redis://127.0.0.1:${port.redis}`,
              OIDC_ISSUER: keycloak.issuer,
              ...(serviceClients[service.appId]
                ? { SERVICE_CLIENT_ID: serviceClients[service.appId]!.clientId, SERVICE_CLIENT_SECRET: serviceClients[service.appId]!.secret }
                : {}),
              // Throw-away platforms (tests, benchmarks) retry undelivered events quickly, so no test waits on a relay.
              ...(options.persistent ? {} : { OUTBOX_RELAY_INTERVAL_MS: '500', ...service.throwawayEnv }),
              ...signingKeyEnv(service),
              ...(service.browserClient
                ? {
                    WEB_BASE_URL: siteUrls[0]!,
                    OIDC_CLIENT_ID: service.browserClient,
                    OIDC_CLIENT_SECRET: browserClientSecrets[service.browserClient]!,
                    SESSION_SECRET: sessionSecret,
                  }
                : {}),
              ...appEnvOverrides.get(name),
            },
          }),
        waitReady: (p) => waitUntil(name, tcpOpen(sidecar.appPort!), { timeoutMs: 30_000, process: p }),
      };
    }

    function sidecarProcess(name: string, sidecar: Sidecar, internalGrpc: number, resourcesDir: string, configFile: string): ProcessSpec {
      return {
        name,
        launch: () =>
          supervisor.start(name, bin.daprd, [
            `--app-id=${sidecar.appId}`,
            ...(sidecar.appPort ? [`--app-port=${sidecar.appPort}`, '--app-protocol=http', '--app-channel-address=127.0.0.1'] : []),
            '--dapr-listen-addresses=127.0.0.1',
            `--dapr-http-port=${sidecar.httpPort}`, `--dapr-grpc-port=${sidecar.grpcPort}`,
            `--dapr-internal-grpc-port=${internalGrpc}`, '--dapr-internal-grpc-listen-address=127.0.0.1',
            `--placement-host-address=127.0.0.1:${port.placement}`, `--scheduler-host-address=127.0.0.1:${port.scheduler}`,
            `--resources-path=${resourcesDir}`, `--config=${configFile}`,
            // daprd 1.18 logs "Building pipeline app" at info on every invocation; warn keeps its log to what matters.
            '--enable-metrics=false', '--log-as-json', `--log-level=${options.logLevel === 'debug' ? 'debug' : 'warn'}`,
            '--dapr-graceful-shutdown-seconds=5',
          ], {
            env: {
              ...process.env,
              DAPR_API_TOKEN: sidecar.apiToken,
              APP_API_TOKEN: sidecar.appApiToken,
              POD_NAME: sidecar.podName,
              // One Go processor per sidecar: a sidecar here serves a share of one app's requests among twenty-odd
              // processes on a few cores, and with more Ps Go's scheduler spins looking for work between requests
              // (≈ a quarter more daprd CPU per call, and a slower p50, at low concurrency; docs/runtime.md).
              GOMAXPROCS: process.env['MERCATO_DAPRD_GOMAXPROCS'] ?? '1',
            },
          }),
        waitReady: (p) =>
          waitUntil(name, httpOk(`http://127.0.0.1:${sidecar.httpPort}/v1.0/healthz/outbound`), { timeoutMs: 60_000, process: p }),
      };
    }
    await Promise.all(replicaStarts);

    // Internal apps (no ingress) get no route at all: nginx answers 404 for them as for any unknown path.
    const routes: IngressRoute[] = services.flatMap((s) =>
      s.ingress
        ? [{
            prefix: s.ingress.prefix,
            appId: s.appId,
            appPath: s.ingress.appPath,
            sidecarHttpPorts: replicas[s.appId]!.map((r) => r.httpPort),
            sidecarApiToken: sidecars[s.appId]!.apiToken,
          }]
        : [],
    );
    // The whole API in one document, served by the ingress itself at /api/openapi.json (no token needed to read it).
    const openApiFile = path.join(dirs.nginx, 'openapi.json');
    writeFileSync(openApiFile, JSON.stringify(renderAggregateOpenApi(services, `http://localhost:${port.ingress}`)));
    const nginxConfig = renderNginxConfig(dirs.nginx, port.ingress, routes, { openApiFile });
    await startPiece({
      name: 'nginx',
      launch: () => supervisor.start('nginx', bin.nginx, ['-p', dirs.nginx, '-e', path.join(dirs.nginx, 'error.log'), '-c', nginxConfig]),
      waitReady: (p) => waitUntil('nginx', httpOk(`http://127.0.0.1:${port.ingress}/healthz`), { timeoutMs: 15_000, process: p }),
    });

    progress('waiting for every service to report ready');
    await Promise.all(
      services.flatMap((s) =>
        replicas[s.appId]!.map((sidecar) => {
          const name = replicaName(s.appId, sidecar.replica);
          return waitUntil(`${name} /readyz`, httpOk(`http://127.0.0.1:${sidecar.appPort}/readyz`), {
            timeoutMs: 60_000,
            process: piece(name).current(),
          });
        }),
      ),
    );

    await createMissingSequences(`http://127.0.0.1:${port.ingress}`, `http://127.0.0.1:${port.keycloak}`, services);

    return {
      ingressUrl: `http://localhost:${port.ingress}`,
      keycloakUrl: `http://localhost:${port.keycloak}`,
      issuer: keycloak.issuer,
      mongodbUri,
      sidecars,
      replicas,
      serviceClients,
      runDir: options.runDir,
      processNames: () => [...pieces.keys()],
      pidOf: (name) => pieces.get(name)?.current().pid,
      restartsOf: (name) => piece(name).restarts(),
      stopProcess: (name) => piece(name).stop(),
      startProcess: (name) => piece(name).start(),
      killProcess: (name) => piece(name).kill(),
      setAppEnv: (name, env) => {
        piece(name);
        if (env) appEnvOverrides.set(name, env);
        else appEnvOverrides.delete(name);
      },
      stop: () => supervisor.stopAll(),
    };
  } catch (error) {
    await supervisor.stopAll(3000);
    throw error;
  }
}

const defaultDaprConfig = 'config';

/** The sequences the services draw from (`ServiceSpec.sequences`), created as the demo admin when missing. */
async function createMissingSequences(ingressUrl: string, keycloakUrl: string, services: readonly ServiceSpec[]): Promise<void> {
  const wanted = services.flatMap((service) => Object.entries(service.sequences ?? {}));
  if (wanted.length === 0) return;
  const token = await fetchToken(keycloakUrl, { username: 'admin', password: 'admin' });
  for (const [name, settings] of wanted) {
    const url = `${ingressUrl}/api/sequences/${encodeURIComponent(name)}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const found = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
    if (found.status === 200) continue;
    const created = await fetch(url, { method: 'PUT', headers, body: JSON.stringify(settings), signal: AbortSignal.timeout(15_000) });
    if (!created.ok) throw new Error(`could not create the sequence ${name}: ${created.status} ${await created.text()}`);
  }
}

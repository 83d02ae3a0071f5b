import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { apiAudience, importRealm, keycloakLaunch } from './keycloak';
import { repoRoot, runtimeBinaries, type RuntimeBinaries } from './paths';
import { freePort } from './ports';
import { Supervisor, type ManagedProcess } from './processes';
import { renderDaprResources, renderNginxConfig, type IngressRoute } from './render';
import { platformServices, type ServiceSpec } from './services';
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
  httpPort: number;
  grpcPort: number;
  /** Token a caller presents to this daprd's API. */
  apiToken: string;
  /** Token this daprd presents to its app. */
  appApiToken: string;
  /** The app's port; undefined for a sidecar without an app. */
  appPort: number | undefined;
}

export interface Stack {
  ingressUrl: string;
  keycloakUrl: string;
  issuer: string;
  mongodbUri: string;
  sidecars: Record<string, Sidecar>;
  runDir: string;
  /** Stops one named piece (e.g. `ferretdb`), keeping its port and data. */
  stopProcess(name: string): Promise<void>;
  /** Starts it again, same port and data, and waits until it is healthy. */
  startProcess(name: string): Promise<void>;
  stop(): Promise<void>;
}

interface Piece {
  launch(): ManagedProcess;
  waitReady(process: ManagedProcess): Promise<void>;
  current?: ManagedProcess;
}

const token = () => randomBytes(24).toString('hex');

export async function startStack(options: StackOptions): Promise<Stack> {
  const progress = options.progress ?? (() => undefined);
  const bin: RuntimeBinaries = runtimeBinaries();
  const services = options.services ?? platformServices;
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

  const supervisor = new Supervisor(dirs.logs, (what) =>
    progress(what === 'stopped' ? 'every process stopped' : `${what}: stopping every process`),
  );
  const pieces = new Map<string, Piece>();
  const startPiece = async (name: string, piece: Piece) => {
    pieces.set(name, piece);
    piece.current = piece.launch();
    await piece.waitReady(piece.current);
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
    const keycloak = keycloakLaunch({
      dataDir: dirs.keycloak,
      httpPort: port.keycloak,
      managementPort: port.keycloakManagement,
      persistent: options.persistent,
    });

    progress(`starting Redis, FerretDB, Keycloak ${bin.versions.keycloak}, Dapr ${bin.versions.dapr} placement and scheduler`);
    const infrastructure: Array<[string, Piece]> = [
      [
        'redis',
        {
          launch: () =>
            supervisor.start('redis', bin.redisServer, [
              '--bind', '127.0.0.1', '--port', String(port.redis), '--dir', dirs.redis,
              '--save', options.persistent ? '60 1' : '', '--appendonly', options.persistent ? 'yes' : 'no',
              '--protected-mode', 'yes', '--daemonize', 'no',
            ]),
          waitReady: (p) => waitUntil('redis', tcpOpen(port.redis), { timeoutMs: 15_000, process: p }),
        },
      ],
      [
        'ferretdb',
        {
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
      ],
      [
        'keycloak',
        {
          launch: () => supervisor.start('keycloak', path.join(bin.keycloakHome, 'bin', 'kc.sh'), keycloak.args, { env: keycloak.env }),
          waitReady: async (p) => {
            await waitUntil('keycloak', httpOk(keycloak.healthUrl), { timeoutMs: 240_000, intervalMs: 1000, process: p });
            const outcome = await importRealm(`http://127.0.0.1:${port.keycloak}`);
            progress(outcome === 'imported' ? 'realm "mercato" imported' : 'realm "mercato" already present');
          },
        },
      ],
      [
        'placement',
        {
          launch: () =>
            supervisor.start('placement', bin.placement, [
              `--port=${port.placement}`, '--listen-address=127.0.0.1', `--healthz-port=${port.placementHealth}`,
              '--healthz-listen-address=127.0.0.1', `--initial-cluster=dapr-placement-0=127.0.0.1:${port.placementRaft}`,
              '--enable-metrics=false', '--log-as-json',
            ]),
          waitReady: (p) =>
            waitUntil('placement', httpOk(`http://127.0.0.1:${port.placementHealth}/healthz`), { timeoutMs: 30_000, process: p }),
        },
      ],
      [
        'scheduler',
        {
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
      ],
    ];
    await Promise.all(infrastructure.map(([name, piece]) => startPiece(name, piece)));
    progress('infrastructure healthy');

    const resources = renderDaprResources(dirs.dapr, {
      REDIS_ADDRESS: `127.0.0.1:${port.redis}`,
      OIDC_ISSUER: keycloak.issuer,
      OIDC_AUDIENCE: apiAudience,
      OIDC_JWKS_URL: `http://127.0.0.1:${port.keycloak}/realms/mercato/protocol/openid-connect/certs`,
      NAME_RESOLUTION_DB: path.join(dirs.dapr, 'name-resolution.db'),
    });
    const mongodbUri = `mongodb://127.0.0.1:${port.ferretdb}/`;

    const sidecars: Record<string, Sidecar> = {};
    const apps = [
      ...services.map((s) => ({ appId: s.appId, service: s as ServiceSpec | undefined })),
      ...(options.extraSidecars ?? []).map((appId) => ({ appId, service: undefined })),
    ];
    for (const app of apps) {
      sidecars[app.appId] = {
        appId: app.appId,
        httpPort: await freePort(),
        grpcPort: await freePort(),
        apiToken: token(),
        appApiToken: token(),
        appPort: app.service ? await freePort() : undefined,
      };
    }

    progress(`starting ${apps.map((a) => a.appId).join(', ')} with their sidecars`);
    const appStarts = apps.map(async (app) => {
      const sidecar = sidecars[app.appId]!;
      const internalGrpc = await freePort();
      const daprd: Piece = {
        launch: () =>
          supervisor.start(`daprd-${app.appId}`, bin.daprd, [
            `--app-id=${app.appId}`,
            ...(sidecar.appPort ? [`--app-port=${sidecar.appPort}`, '--app-protocol=http', '--app-channel-address=127.0.0.1'] : []),
            '--dapr-listen-addresses=127.0.0.1',
            `--dapr-http-port=${sidecar.httpPort}`, `--dapr-grpc-port=${sidecar.grpcPort}`,
            `--dapr-internal-grpc-port=${internalGrpc}`, '--dapr-internal-grpc-listen-address=127.0.0.1',
            `--placement-host-address=127.0.0.1:${port.placement}`, `--scheduler-host-address=127.0.0.1:${port.scheduler}`,
            `--resources-path=${resources.resourcesDir}`, `--config=${resources.configFile}`,
            '--enable-metrics=false', '--log-as-json', `--log-level=${options.logLevel === 'debug' ? 'debug' : 'info'}`,
            '--dapr-graceful-shutdown-seconds=5',
          ], { env: { ...process.env, DAPR_API_TOKEN: sidecar.apiToken, APP_API_TOKEN: sidecar.appApiToken } }),
        waitReady: (p) =>
          waitUntil(`daprd-${app.appId}`, httpOk(`http://127.0.0.1:${sidecar.httpPort}/v1.0/healthz/outbound`), { timeoutMs: 60_000, process: p }),
      };
      if (app.service) {
        const service = app.service;
        const appPiece: Piece = {
          launch: () =>
            supervisor.start(app.appId, process.execPath, ['--enable-source-maps', path.join(repoRoot, service.main)], {
              cwd: repoRoot,
              env: {
                ...process.env,
                SERVICE_NAME: app.appId,
                APP_HOST: '127.0.0.1',
                APP_PORT: String(sidecar.appPort),
                LOG_LEVEL: options.logLevel ?? 'info',
                MONGODB_URI: mongodbUri,
                MONGODB_DATABASE: service.database,
                DAPR_HOST: '127.0.0.1',
                DAPR_HTTP_PORT: String(sidecar.httpPort),
                DAPR_API_TOKEN: sidecar.apiToken,
                APP_API_TOKEN: sidecar.appApiToken,
              },
            }),
          waitReady: (p) => waitUntil(app.appId, tcpOpen(sidecar.appPort!), { timeoutMs: 30_000, process: p }),
        };
        await startPiece(app.appId, appPiece);
      }
      await startPiece(`daprd-${app.appId}`, daprd);
    });
    await Promise.all(appStarts);

    const routes: IngressRoute[] = services.map((s) => ({
      prefix: s.ingress.prefix,
      appId: s.appId,
      appPath: s.ingress.appPath,
      sidecarHttpPort: sidecars[s.appId]!.httpPort,
      sidecarApiToken: sidecars[s.appId]!.apiToken,
    }));
    const nginxConfig = renderNginxConfig(dirs.nginx, port.ingress, routes);
    await startPiece('nginx', {
      launch: () => supervisor.start('nginx', bin.nginx, ['-p', dirs.nginx, '-e', path.join(dirs.nginx, 'error.log'), '-c', nginxConfig]),
      waitReady: (p) => waitUntil('nginx', httpOk(`http://127.0.0.1:${port.ingress}/healthz`), { timeoutMs: 15_000, process: p }),
    });

    progress('waiting for every service to report ready');
    await Promise.all(
      services.map((s) =>
        waitUntil(`${s.appId} /readyz`, httpOk(`http://127.0.0.1:${sidecars[s.appId]!.appPort}/readyz`), {
          timeoutMs: 60_000,
          process: pieces.get(s.appId)!.current!,
        }),
      ),
    );

    return {
      ingressUrl: `http://localhost:${port.ingress}`,
      keycloakUrl: `http://localhost:${port.keycloak}`,
      issuer: keycloak.issuer,
      mongodbUri,
      sidecars,
      runDir: options.runDir,
      async stopProcess(name) {
        const piece = pieces.get(name);
        if (!piece?.current) throw new Error(`no process named ${name}`);
        await piece.current.stop();
      },
      async startProcess(name) {
        const piece = pieces.get(name);
        if (!piece) throw new Error(`no process named ${name}`);
        if (piece.current?.isRunning()) return;
        piece.current = piece.launch();
        await piece.waitReady(piece.current);
      },
      stop: () => supervisor.stopAll(),
    };
  } catch (error) {
    await supervisor.stopAll(3000);
    throw error;
  }
}

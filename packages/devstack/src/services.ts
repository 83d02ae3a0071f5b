/** The platform's services as the devstack runs them; a new service adds one entry here. */
export interface ServiceSpec {
  /** Dapr app id, also the service folder name. */
  appId: string;
  /** Entry point, relative to the repo root (built by `tsc --build`). */
  main: string;
  /** Public ingress prefix → the app's own base path. Absent for an internal app, which the ingress never routes to. */
  ingress?: { prefix: string; appPath: string };
  /** Its MongoDB database; absent for an app that keeps none (e.g. the actor host, whose state is in Dapr's). */
  database?: string;
  /** How many copies run, each beside its own daprd; the ingress spreads requests over them. Default 1. */
  replicas?: number;
  /** The Dapr Configuration its sidecars run with: `dapr/<name>.yaml`. Default `config`. */
  daprConfig?: string;
  /**
   * Environment variables that get the path of an Ed25519 private key (PKCS#8 PEM), as a Secret mounted as a file
   * would in a cluster. The devstack creates each key once per data folder and keeps it there, never in the database.
   */
  signingKeyFiles?: readonly string[];
  /**
   * Named sequences it draws numbers from; the devstack creates each one that is missing once the platform is up (in a
   * cluster an admin creates them once: `PUT /api/sequences/<name>`).
   */
  sequences?: Readonly<Record<string, { start: number; blockSize: number }>>;
  /**
   * A browser front end's Keycloak client (authorization code + PKCE): the devstack gives the app the client's secret
   * (new on every start), points the client's redirect URIs at the ingress, and gives the app a session secret.
   */
  browserClient?: string;
  /** Settings for throw-away platforms (tests, benchmarks) only, e.g. smaller buffers so tests reach their limits fast. */
  throwawayEnv?: Readonly<Record<string, string>>;
}

/** A service the ingress routes to: a public API with an OpenAPI document. */
export type PublicServiceSpec = ServiceSpec & { ingress: NonNullable<ServiceSpec['ingress']> };

export const platformServices: readonly PublicServiceSpec[] = [
  {
    appId: 'categories',
    main: 'services/categories/dist/main.js',
    ingress: { prefix: '/api/categories', appPath: '/categories' },
    database: 'categories',
    replicas: 2,
  },
  {
    appId: 'sequence',
    main: 'services/sequence/dist/main.js',
    ingress: { prefix: '/api/sequences', appPath: '/sequences' },
    database: 'sequence',
    // Two, so the tests can kill one mid-run and see that no value is handed out twice.
    replicas: 2,
  },
  {
    appId: 'products',
    main: 'services/products/dist/main.js',
    ingress: { prefix: '/api/products', appPath: '/products' },
    database: 'products',
    // Two: each keeps its own search index and cache, and the tests prove both stay current.
    replicas: 2,
  },
  {
    appId: 'audit',
    main: 'services/audit/dist/main.js',
    ingress: { prefix: '/api/audit', appPath: '/audit' },
    database: 'audit',
    // Two: each appends to a chain of its own, and the tests prove both chains verify.
    replicas: 2,
    signingKeyFiles: ['AUDIT_CHECKPOINT_KEY_FILE'],
    // A buffer the back-pressure test fills with a few batches, and checkpoints a tampering test need not wait for.
    throwawayEnv: { AUDIT_BUFFER_EVENTS: '1500', AUDIT_CHECKPOINT_INTERVAL_MS: '1000' },
  },
  {
    appId: 'users',
    main: 'services/users/dist/main.js',
    ingress: { prefix: '/api/users', appPath: '/users' },
    database: 'users',
    replicas: 2,
    // Customer numbers: six digits from 100000 on.
    sequences: { customers: { start: 100_000, blockSize: 50 } },
  },
  {
    appId: 'memes',
    main: 'services/memes/dist/main.js',
    ingress: { prefix: '/api/memes', appPath: '/memes' },
    database: 'memes',
    // Two: each keeps its own index, and the tests prove a meme made on one is found on the other.
    replicas: 2,
    // A quota a test can exhaust quickly; premium's stays well above what any test sends.
    throwawayEnv: { MEMES_FREE_SEARCHES_PER_MINUTE: '60', MEMES_REFRESH_INTERVAL_MS: '500' },
  },
];

/**
 * Apps only other services reach, through Dapr, never the ingress. The actor host: its sidecars run without bearer in
 * the app pipeline (daprd's actor calls carry no user token), so nothing may route user traffic to it (request-flow.md).
 */
export const internalServices: readonly ServiceSpec[] = [
  {
    appId: 'activity',
    main: 'services/activity/dist/main.js',
    // Two: actors are placed across both, and the tests kill each to show state and reminders survive.
    replicas: 2,
    daprConfig: 'internal',
    // Roll-ups every 2 s, so a test sees a reminder fire after a restart without waiting a minute.
    throwawayEnv: { ACTIVITY_ROLLUP_INTERVAL_SECONDS: '2' },
  },
];

/**
 * The browser front end: the ingress sends everything outside `/api` to it. It serves pages, not an API document, and
 * its sidecars run without bearer (a browser sends a session cookie, not a token; docs/request-flow.md, "The web").
 */
export const frontEndServices: readonly PublicServiceSpec[] = [
  {
    appId: 'web',
    main: 'services/web/dist/main.js',
    ingress: { prefix: '/', appPath: '/' },
    // Two: sessions live in the Dapr state store, so a person may land on either, and the tests use both.
    replicas: 2,
    daprConfig: 'web',
    browserClient: 'web',
  },
];

/** Everything the devstack runs by default: the public services, the internal apps they call, and the front end. */
export const allPlatformServices: readonly ServiceSpec[] = [...platformServices, ...internalServices, ...frontEndServices];

export const replicasOf = (service: ServiceSpec): number => Math.max(1, service.replicas ?? 1);

/** Process names: `categories-1` is the first replica's app, `daprd-categories-1` its sidecar. */
export const replicaName = (appId: string, replica: number): string => `${appId}-${replica}`;

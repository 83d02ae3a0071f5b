/** The platform's services as the devstack runs them; a new service adds one entry here. */
export interface ServiceSpec {
  /** Dapr app id, also the service folder name. */
  appId: string;
  /** Entry point, relative to the repo root (built by `tsc --build`). */
  main: string;
  /** Public ingress prefix → the app's own base path. */
  ingress: { prefix: string; appPath: string };
  database: string;
  /** How many copies run, each beside its own daprd; the ingress spreads requests over them. Default 1. */
  replicas?: number;
  /** The Dapr Configuration its sidecars run with: `dapr/<name>.yaml`. Default `config`. */
  daprConfig?: string;
  /**
   * Environment variables that get the path of an Ed25519 private key (PKCS#8 PEM), as a Secret mounted as a file
   * would in a cluster. The devstack creates each key once per data folder and keeps it there, never in the database.
   */
  signingKeyFiles?: readonly string[];
  /** Settings for throw-away platforms (tests, benchmarks) only, e.g. smaller buffers so tests reach their limits fast. */
  throwawayEnv?: Readonly<Record<string, string>>;
}

export const platformServices: readonly ServiceSpec[] = [
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
];

export const replicasOf = (service: ServiceSpec): number => Math.max(1, service.replicas ?? 1);

/** Process names: `categories-1` is the first replica's app, `daprd-categories-1` its sidecar. */
export const replicaName = (appId: string, replica: number): string => `${appId}-${replica}`;

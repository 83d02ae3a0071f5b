export interface SidecarInfo {
  httpPort: number;
  apiToken: string;
  appPort: number;
  appApiToken: string;
  /** The app's Prometheus `/metrics` port (loopback; not routed through the ingress). */
  metricsPort: number;
  /** The replica's instance name (POD_NAME of its app and daprd). */
  podName: string;
}

/** What the test files know about the running platform (set by the global setup). */
export interface StackInfo {
  ingressUrl: string;
  keycloakUrl: string;
  issuer: string;
  mongodbUri: string;
  controlUrl: string;
  runDir: string;
  /** The first replica's sidecar of every app id. */
  sidecars: Record<string, SidecarInfo>;
  /** Every replica's sidecar, by app id; process names are `<appId>-<n>` and `daprd-<appId>-<n>`, n from 1. */
  replicas: Record<string, SidecarInfo[]>;
  /** Each service's own Keycloak client (`clientId`, `secret`), by app id, for tests that call as that service. */
  serviceClients: Record<string, { clientId: string; secret: string }>;
}

export function stackInfo(): StackInfo {
  const raw = process.env['MERCATO_STACK'];
  if (!raw) throw new Error('MERCATO_STACK is not set: run integration tests through `npm test`');
  return JSON.parse(raw) as StackInfo;
}

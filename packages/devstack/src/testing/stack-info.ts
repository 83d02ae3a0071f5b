/** What the test files know about the running platform (set by the global setup). */
export interface StackInfo {
  ingressUrl: string;
  keycloakUrl: string;
  issuer: string;
  mongodbUri: string;
  controlUrl: string;
  runDir: string;
  sidecars: Record<string, { httpPort: number; apiToken: string; appPort: number }>;
}

export function stackInfo(): StackInfo {
  const raw = process.env['MERCATO_STACK'];
  if (!raw) throw new Error('MERCATO_STACK is not set: run integration tests through `npm test`');
  return JSON.parse(raw) as StackInfo;
}

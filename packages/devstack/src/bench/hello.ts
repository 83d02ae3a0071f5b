import { replicaName, type PublicServiceSpec } from '../services';
import type { Stack } from '../stack';
import type { Target } from './framework';

/**
 * The hello-world app (hello-app.ts) beside its own daprd with the same Configuration as every service, behind the
 * same nginx. Only `npm run bench` starts it.
 */
export const helloSpec: PublicServiceSpec = {
  appId: 'hello',
  main: 'packages/devstack/dist/bench/hello-app.js',
  ingress: { prefix: '/api/hello', appPath: '/hello' },
  database: 'hello',
  replicas: 1,
};

/** The ceiling: hello through nginx and daprd (bearer check included), exactly the path a real route takes. */
export const ceilingTarget = (stack: Stack, headers: () => Promise<Record<string, string>>): Target => ({
  name: 'hello via nginx + daprd (ceiling)',
  url: `${stack.ingressUrl}${helloSpec.ingress.prefix}`,
  headers,
});

/** The processes a ceiling request passes through, for its CPU breakdown. */
export const ceilingProcesses = (name: string): string | undefined => {
  if (name === `daprd-${replicaName(helloSpec.appId, 1)}`) return 'daprd';
  if (name === replicaName(helloSpec.appId, 1)) return 'hello app';
  if (name === 'nginx') return 'nginx';
  return undefined;
};

import { stackInfo } from '../src/testing/stack-info';

interface Metadata {
  id: string;
  runtimeVersion: string;
  components: Array<{ name: string; type: string }>;
  actorRuntime?: { runtimeStatus: string; placement: string };
}

describe('the categories sidecar', () => {
  it('when asked for its metadata, then every component is loaded and the actor runtime is connected to placement', async () => {
    const sidecar = stackInfo().sidecars['categories']!;
    const response = await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/metadata`, {
      headers: { 'dapr-api-token': sidecar.apiToken },
    });
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Metadata;
    expect(metadata.id).toBe('categories');
    expect(metadata.components.map((c) => `${c.name}:${c.type}`).sort()).toEqual([
      'actorstate:state.redis',
      'bearer:middleware.http.bearer',
      'cache:state.redis',
      'events:pubsub.redis',
      'lockstore:lock.redis',
    ]);
    expect(metadata.actorRuntime).toMatchObject({ runtimeStatus: 'RUNNING', placement: 'placement: connected' });
  });

  it('when its API is called without the Dapr API token, then it refuses', async () => {
    const sidecar = stackInfo().sidecars['categories']!;
    const response = await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/metadata`);
    expect(response.status).toBe(401);
  });

  it('when the app is called directly without the app token, then it refuses (only daprd may call it)', async () => {
    const sidecar = stackInfo().sidecars['categories']!;
    const response = await fetch(`http://127.0.0.1:${sidecar.appPort}/categories`);
    expect(response.status).toBe(401);
  });
});

import { randomUUID } from 'node:crypto';
import { createLogger, createVersionedCache, daprCacheStore, type VersionedCache } from '@mercato/platform';
import { controlProcess } from '../src/testing/client';
import { stackInfo } from '../src/testing/stack-info';

/**
 * The cache's assumptions about the real `cache` component (Redis behind daprd, components/cache.yaml), checked through
 * the categories sidecar's state API. The cache's races are proved in packages/platform/test/cache.test.ts against a
 * store with these semantics; this file proves the real store has them.
 */
const sidecar = () => stackInfo().sidecars['categories']!;
const store = () =>
  daprCacheStore({ daprHost: '127.0.0.1', daprHttpPort: sidecar().httpPort, daprApiToken: sidecar().apiToken, storeName: 'cache', ttlSeconds: 60, timeoutMs: 2000 });

interface Item {
  id: string;
  version: number;
}
const silent = createLogger('cache-test', 'error');
const replica = (name: string): VersionedCache<Item> =>
  createVersionedCache<Item>({
    name,
    daprHost: '127.0.0.1',
    daprHttpPort: sidecar().httpPort,
    daprApiToken: sidecar().apiToken,
    versionOf: (item) => item.version,
    ttlSeconds: 60,
    local: false,
    logger: silent,
  });

describe('the cache state store (Redis through daprd)', () => {
  it('when a key is absent, then a save without an ETag inserts it, and a second one is refused', async () => {
    const key = `probe:${randomUUID()}`;
    await expect(store().get(key)).resolves.toBeUndefined();
    await expect(store().save(key, { version: 1, value: 'one' }, undefined)).resolves.toBe('saved');
    const read = await store().get(key);
    expect(read).toEqual({ entry: { version: 1, value: 'one' }, etag: expect.stringMatching(/^\d+$/) });
    await expect(store().save(key, { version: 2, value: 'two' }, undefined)).resolves.toBe('refused');
    await expect(store().get(key)).resolves.toMatchObject({ entry: { version: 1 } });
  });

  it('when a save carries the ETag it read, then it replaces; with an ETag from before another save, then it is refused', async () => {
    const key = `probe:${randomUUID()}`;
    await store().save(key, { version: 1, value: 'one' }, undefined);
    const first = (await store().get(key))!;
    await expect(store().save(key, { version: 2, value: 'two' }, first.etag)).resolves.toBe('saved');
    await expect(store().save(key, { version: 3, value: 'three' }, first.etag)).resolves.toBe('refused');
    await expect(store().get(key)).resolves.toMatchObject({ entry: { version: 2, value: 'two' } });
    await store().delete(key);
    await expect(store().get(key)).resolves.toBeUndefined();
  });

  it('when a reader fills after a writer updated the cache, then the newer version stays in the shared store', async () => {
    const name = `race-${randomUUID()}`;
    let answerReader!: (item: Item) => void;
    const read = replica(name).read('a', () => new Promise<Item>((resolve) => (answerReader = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the reader has missed and waits for its database
    await replica(name).written('a', { id: 'a', version: 2 }, 2);
    answerReader({ id: 'a', version: 1 });
    await read;
    await expect(store().get(`${name}:a`)).resolves.toMatchObject({ entry: { version: 2 } });
    await expect(replica(name).read('a', async () => ({ id: 'a', version: 99 }))).resolves.toEqual({ id: 'a', version: 2 });
  });

  it('when Redis is down, then reads come from the database and a write does not fail', async () => {
    const name = `outage-${randomUUID()}`;
    const cache = replica(name);
    await controlProcess('redis', 'stop');
    try {
      const started = Date.now();
      await expect(cache.read('a', async () => ({ id: 'a', version: 1 }))).resolves.toEqual({ id: 'a', version: 1 });
      await expect(cache.written('a', { id: 'a', version: 2 }, 2)).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await controlProcess('redis', 'start');
    }
  }, 60_000);
});

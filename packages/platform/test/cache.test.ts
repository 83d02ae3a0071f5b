import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { daprCacheStore, LocalLayer, versionedCacheOver, type CacheStore, type StoredEntry, type VersionedCache } from '../src/cache';
import type { Logger } from '../src/logger';
import { createMetrics } from '../src/metrics';

interface Item {
  id: string;
  version: number;
  name: string;
}
const item = (version: number, name = `v${version}`): Item => ({ id: 'a', version, name });

/**
 * A store with the Redis state component's semantics under `first-write` (components-contrib state/redis,
 * setDefaultQuery): each entry has a version that is its ETag; a save with the current ETag, or any save on an absent
 * key, succeeds and raises it; a save without an ETag on a present key is refused. Entries expire after the TTL.
 */
class RedisLikeStore implements CacheStore {
  readonly entries = new Map<string, { entry: StoredEntry<unknown>; etag: number; expiresAt: number }>();
  down = false;
  deleteFails = false;
  /** Saves to refuse regardless of ETag, as if another writer got in first each time. */
  refuseNextSaves = 0;
  readonly calls: string[] = [];

  constructor(
    private readonly clock: { now: number },
    private readonly ttlMs = 300_000,
  ) {}

  private live(key: string) {
    const held = this.entries.get(key);
    if (held && held.expiresAt <= this.clock.now) {
      this.entries.delete(key);
      return undefined;
    }
    return held;
  }

  async get(key: string) {
    this.calls.push(`get ${key}`);
    if (this.down) throw new Error('connection refused');
    const held = this.live(key);
    return held ? { entry: structuredClone(held.entry) as unknown, etag: String(held.etag) } : undefined;
  }

  async save(key: string, entry: StoredEntry<unknown>, etag: string | undefined) {
    this.calls.push(`save ${key} v${entry.version}${etag ? ` etag ${etag}` : ''}`);
    if (this.down) throw new Error('connection refused');
    const held = this.live(key);
    if (this.refuseNextSaves > 0) {
      this.refuseNextSaves--;
      return 'refused' as const;
    }
    if (held && etag !== String(held.etag)) return 'refused' as const;
    this.entries.set(key, { entry: structuredClone(entry), etag: (held?.etag ?? 0) + 1, expiresAt: this.clock.now + this.ttlMs });
    return 'saved' as const;
  }

  async delete(key: string) {
    this.calls.push(`delete ${key}`);
    if (this.down || this.deleteFails) throw new Error('connection refused');
    this.entries.delete(key);
  }

  versionOf(key: string): number | undefined {
    return this.live(`item:${key}`)?.entry.version;
  }
}

const silentLogger = (): Logger & { lines: Array<[string, string]> } => {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (msg: string) => {
    lines.push([level, msg]);
  };
  return {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    http: at('http'),
    debug: at('debug'),
    request: () => undefined,
    setLevel: () => undefined,
    level: () => 'debug',
  };
};

/** A promise the test resolves when it chooses: the moment a reader's database load returns. */
const deferred = <T>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};
const ticks = async (n = 20) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

/** The replica answers `expected` for key 'a' from its L1: the store is not asked, the database is not either. */
async function expectFromL1(cache: VersionedCache<Item>, store: RedisLikeStore, expected: Item) {
  store.calls.length = 0;
  await expect(cache.read('a', async () => item(99))).resolves.toEqual(expected);
  expect(store.calls).toEqual([]);
}

function setUp(options: { local?: boolean } = {}) {
  const clock = { now: 1_000_000 };
  const store = new RedisLikeStore(clock);
  const logger = silentLogger();
  const metrics = createMetrics('test');
  const replica = (): VersionedCache<Item> =>
    versionedCacheOver<Item>(store, {
      name: 'item',
      versionOf: (value) => value.version,
      ttlSeconds: 300,
      local: options.local === false ? false : { maxEntries: 100, ttlMs: 60_000 },
      logger,
      metrics,
      now: () => clock.now,
    });
  return { clock, store, logger, metrics, replica };
}

describe('the shared cache level (L2) never goes back to an older version', () => {
  it('when a reader loads v1, a writer commits v2 and updates the cache, and the reader then fills, then v2 stays', async () => {
    const { store, replica } = setUp({ local: false });
    const reader = replica();
    const writer = replica();
    const databaseAnswer = deferred<Item>();
    const read = reader.read('a', () => databaseAnswer.promise);
    await ticks(); // the reader has missed and is waiting for the database
    await writer.written('a', item(2), 2);
    databaseAnswer.resolve(item(1)); // what the database held when the reader asked
    await expect(read).resolves.toEqual(item(1)); // a read concurrent with the write may see either
    expect(store.versionOf('a')).toBe(2);
    await expect(replica().read('a', async () => item(99))).resolves.toEqual(item(2));
  });

  it('when the reader fills v1 before the writer updates the cache, then the writer replaces it with v2', async () => {
    const { store, replica } = setUp({ local: false });
    await replica().read('a', async () => item(1));
    expect(store.versionOf('a')).toBe(1);
    await replica().written('a', item(2), 2);
    expect(store.versionOf('a')).toBe(2);
  });

  it('when two writes reach the cache out of order, then the newer one stays', async () => {
    const { store, replica } = setUp({ local: false });
    await replica().written('a', item(3), 3);
    await replica().written('a', item(2), 2);
    expect(store.versionOf('a')).toBe(3);
    await expect(replica().read('a', async () => item(99))).resolves.toEqual(item(3));
  });

  it('when an item is deleted, then readers get nothing without asking the database, and a slow older fill is refused', async () => {
    const { store, replica } = setUp({ local: false });
    const databaseAnswer = deferred<Item>();
    const read = replica().read('a', () => databaseAnswer.promise);
    await ticks();
    await replica().written('a', undefined, 2);
    databaseAnswer.resolve(item(1));
    await read;
    expect(store.entries.get('item:a')?.entry).toEqual({ version: 2, deleted: true });
    const load = jest.fn(async () => item(1));
    await expect(replica().read('a', load)).resolves.toBeUndefined();
    expect(load).not.toHaveBeenCalled();
  });

  it('when a deletion and the last value carry the same version, then the deletion wins', async () => {
    const { store, replica } = setUp({ local: false });
    await replica().written('a', item(4), 4);
    await replica().written('a', undefined, 4);
    expect(store.entries.get('item:a')?.entry).toEqual({ version: 4, deleted: true });
  });

  it('when a reader takes more than half the TTL between its miss and its fill, then it does not fill', async () => {
    const { clock, store, replica } = setUp({ local: false });
    const databaseAnswer = deferred<Item>();
    const read = replica().read('a', () => databaseAnswer.promise);
    await ticks();
    clock.now += 150_000;
    databaseAnswer.resolve(item(1));
    await expect(read).resolves.toEqual(item(1));
    expect(store.calls.filter((call) => call.startsWith('save'))).toEqual([]);
  });

  it('when other writers keep changing the entry through every attempt, then the writer deletes it', async () => {
    const { store, replica } = setUp({ local: false });
    await replica().written('a', item(1), 1);
    store.refuseNextSaves = 10;
    await replica().written('a', item(2), 2);
    expect(store.calls.at(-1)).toBe('delete item:a');
    expect(store.entries.has('item:a')).toBe(false);
  });
});

describe('the in-process cache level (L1)', () => {
  it('when a replica wrote, then its next read returns the new value from L1 without touching L2', async () => {
    const { store, replica } = setUp();
    const cache = replica();
    await cache.read('a', async () => item(1));
    await cache.written('a', item(2), 2);
    await expectFromL1(cache, store, item(2));
  });

  it("when another replica wrote, then this replica's L1 serves the old value until the event is observed", async () => {
    const { replica } = setUp();
    const here = replica();
    const there = replica();
    await here.read('a', async () => item(1));
    await there.written('a', item(2), 2);
    await expect(here.read('a', async () => item(99))).resolves.toEqual(item(1));
    here.observed('a', 2);
    await expect(here.read('a', async () => item(99))).resolves.toEqual(item(2));
  });

  it('when the event arrives before a fill loaded earlier lands, then the older fill is refused', async () => {
    const { store, replica } = setUp();
    const here = replica();
    const databaseAnswer = deferred<Item>();
    const read = here.read('a', () => databaseAnswer.promise);
    await ticks();
    here.observed('a', 2); // another replica committed v2; its cache update has not landed yet
    databaseAnswer.resolve(item(1));
    await read;
    await replica().written('a', item(2), 2);
    store.calls.length = 0;
    await expect(here.read('a', async () => item(99))).resolves.toEqual(item(2));
    expect(store.calls).toEqual(['get item:a']); // L1 held only the observed version, so L2 answered
  });

  it('when an observed version is newer than what L2 holds, then the database answers, not L2', async () => {
    const { replica } = setUp();
    const here = replica();
    await here.read('a', async () => item(1));
    here.observed('a', 2); // the writer's update of L2 has not landed yet
    await expect(here.read('a', async () => item(2))).resolves.toEqual(item(2));
  });

  it('when a read on the writing replica loaded the older version before the write, then L1 keeps the written one', async () => {
    const { clock, store, replica } = setUp();
    const here = replica();
    store.down = true; // the reader finds L2 unavailable, so it would fill L1 from its load
    const databaseAnswer = deferred<Item>();
    const read = here.read('a', () => databaseAnswer.promise);
    await ticks();
    store.down = false;
    clock.now += 2000;
    await here.written('a', item(2), 2);
    databaseAnswer.resolve(item(1));
    await read;
    await expectFromL1(here, store, item(2));
  });

  it('when events name keys this replica neither holds nor reads, then L1 keeps what it holds', async () => {
    const { store, replica } = setUp();
    const here = replica();
    await here.read('a', async () => item(1));
    for (let i = 0; i < 500; i++) here.observed(`other-${i}`, 1);
    await expectFromL1(here, store, item(1));
  });

  it('when L2 cannot be updated, then the writing replica still reads the new value from its L1', async () => {
    const { store, replica } = setUp();
    const writer = replica();
    await writer.written('a', item(1), 1);
    store.down = true;
    await writer.written('a', item(2), 2);
    store.down = false;
    await expect(writer.read('a', async () => item(99))).resolves.toEqual(item(2));
  });

  it('when L1 is full, then the least recently used key goes; when an entry is older than its TTL, then it is gone', () => {
    let now = 0;
    const layer = new LocalLayer<string>(2, 1000, () => now);
    layer.offer('a', 1, 'A', 'value');
    layer.offer('b', 1, 'B', 'value');
    layer.get('a');
    layer.offer('c', 1, 'C', 'value');
    expect(layer.get('b')).toBeUndefined();
    expect(layer.get('a')?.value).toBe('A');
    now = 1000;
    expect(layer.get('a')).toBeUndefined();
  });

  it('when an older version is offered, then L1 keeps the newer one; at the same version a deletion replaces a value', () => {
    const layer = new LocalLayer<string>(10, 1000, () => 0);
    layer.offer('a', 2, 'two', 'value');
    layer.offer('a', 1, 'one', 'value');
    expect(layer.get('a')).toMatchObject({ version: 2, value: 'two' });
    layer.offer('a', 2, undefined, 'observed');
    expect(layer.get('a')).toMatchObject({ version: 2, state: 'value' });
    layer.offer('a', 2, undefined, 'deleted');
    expect(layer.get('a')).toMatchObject({ version: 2, state: 'deleted' });
  });
});

describe('a cache outage', () => {
  it('when the store is down, then reads come from the database, one warning is logged and each lookup is counted', async () => {
    const { clock, store, logger, metrics, replica } = setUp({ local: false });
    store.down = true;
    const cache = replica();
    await expect(cache.read('a', async () => item(1))).resolves.toEqual(item(1));
    clock.now += 2000;
    await expect(cache.read('a', async () => item(1))).resolves.toEqual(item(1));
    await expect(cache.read('a', async () => item(1))).resolves.toEqual(item(1)); // within the back-off: L2 skipped
    expect(store.calls.filter((call) => call.startsWith('get'))).toHaveLength(2);
    expect(logger.lines.filter(([level]) => level === 'warn')).toHaveLength(1);
    const errors = (await metrics.cacheRequests.get()).values.find((v) => v.labels.level === 'l2' && v.labels.result === 'error');
    expect(errors?.value).toBe(3);

    store.down = false;
    clock.now += 2000;
    await cache.read('a', async () => item(1));
    expect(logger.lines.filter(([level]) => level === 'info').map(([, msg]) => msg)).toEqual(['cache store available again']);
  });

  it('when the entry cannot be updated but can be deleted, then written() deletes it and does not throw', async () => {
    const { store, replica } = setUp({ local: false });
    await replica().written('a', item(1), 1);
    const get = jest.spyOn(store, 'get').mockRejectedValueOnce(new Error('timeout'));
    await expect(replica().written('a', item(2), 2)).resolves.toBeUndefined();
    get.mockRestore();
    expect(store.entries.has('item:a')).toBe(false);
  });

  it('when the store cannot even delete, then written() still does not throw and warns that the TTL bounds the staleness', async () => {
    const { store, logger, replica } = setUp({ local: false });
    store.down = true;
    await expect(replica().written('a', item(2), 2)).resolves.toBeUndefined();
    expect(logger.lines).toContainEqual(['warn', 'cache entry could not be updated nor deleted; it can serve an older version until its TTL ends']);
  });
});

describe('counting hits and misses per level', () => {
  it('when a key is read three times on one replica and once on another, then L1 and L2 hits and misses add up', async () => {
    const { metrics, replica } = setUp();
    const here = replica();
    await here.read('a', async () => item(1));
    await here.read('a', async () => item(1));
    await here.read('a', async () => item(1));
    await replica().read('a', async () => item(1));
    const counts = Object.fromEntries((await metrics.cacheRequests.get()).values.map((v) => [`${v.labels.level} ${v.labels.result}`, v.value]));
    expect(counts).toEqual({ 'l1 miss': 2, 'l2 miss': 1, 'l1 hit': 2, 'l2 hit': 1 });
  });
});

describe('the Dapr state API under the cache', () => {
  let server: Server;
  let port = 0;
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
  let answer: { status: number; body?: string; etag?: string } = { status: 204 };
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(answer.status, answer.etag ? { etag: answer.etag } : {}).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  // A generous timeout: these tests are about the protocol, and a loaded CI machine can take longer than the default.
  const store = () => daprCacheStore({ daprHost: '127.0.0.1', daprHttpPort: port, daprApiToken: 'token-0123456789abcdef', storeName: 'cache', ttlSeconds: 300, timeoutMs: 10_000 });

  it('when an entry is read, then its ETag comes along; when absent (204), then undefined', async () => {
    answer = { status: 200, body: '{"version":3,"value":{"id":"a"}}', etag: '7' };
    await expect(store().get('item:a/b')).resolves.toEqual({ entry: { version: 3, value: { id: 'a' } }, etag: '7' });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1.0/state/cache/item%3Aa%2Fb' });
    expect(seen.at(-1)?.headers['dapr-api-token']).toBe('token-0123456789abcdef');
    answer = { status: 204 };
    await expect(store().get('item:a')).resolves.toBeUndefined();
  });

  it('when an entry is saved, then it goes as first-write with the ETag and the TTL; 409 and 500 are refusals', async () => {
    answer = { status: 204 };
    await expect(store().save('item:a', { version: 2, value: 'x' }, '7')).resolves.toBe('saved');
    expect(JSON.parse(seen.at(-1)?.body ?? '')).toEqual([
      { key: 'item:a', value: { version: 2, value: 'x' }, etag: '7', options: { concurrency: 'first-write' }, metadata: { ttlInSeconds: '300' } },
    ]);
    answer = { status: 409, body: '{"errorCode":"ERR_STATE_SAVE"}' };
    await expect(store().save('item:a', { version: 2, value: 'x' }, '7')).resolves.toBe('refused');
    answer = { status: 500, body: '{"errorCode":"ERR_STATE_SAVE","message":"failed to set key"}' };
    await expect(store().save('item:a', { version: 2, value: 'x' }, undefined)).resolves.toBe('refused');
    answer = { status: 403, body: 'forbidden' };
    await expect(store().save('item:a', { version: 2, value: 'x' }, undefined)).rejects.toThrow(/403/);
  });

  it('when daprd does not answer within the timeout, then the call fails instead of waiting', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const slow = daprCacheStore({ daprHost: '127.0.0.1', daprHttpPort: silentPort, daprApiToken: 't', storeName: 'cache', ttlSeconds: 300, timeoutMs: 100 });
    await expect(slow.get('item:a')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});

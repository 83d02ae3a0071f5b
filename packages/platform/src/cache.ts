import type { Logger } from './logger';
import type { CacheLevel, CacheResult, Metrics } from './metrics';

/**
 * A two-level cache-aside cache for items that carry a version (the document's `version`, raised by every write):
 * L1 in this process (per replica, optional) in front of L2, the Dapr state store `cache` that all replicas of one app
 * id share (components/cache.yaml: Redis, keyPrefix appid).
 *
 * What holds (proved in test/cache.test.ts against a store with the Redis component's ETag semantics):
 * - **L2 never goes back.** After `written(key, v)` returns, no replica reads a version older than v from L2, until the
 *   entry expires on its own. Every L2 entry carries its version; a deletion leaves a tombstone with its version
 *   instead of an empty key. A writer replaces an entry only with a newer version, by compare-and-swap on the entry's
 *   ETag; a reader fills a miss only where the key is still absent (`first-write` with no ETag), so the classic race
 *   (a reader loads v1, a writer commits v2 and updates L2, the reader then stores v1) ends with the reader's fill
 *   refused. A reader that took more than half the TTL between its miss and its fill does not fill: the writer's entry
 *   lives a whole TTL after the writer's commit, so a slow reader cannot outlive it and find the key absent again.
 *   (Assumes Redis does not evict entries before their TTL: `maxmemory-policy noeviction`, Redis's default.)
 * - **L1 on the writing replica**: a read after a write on the same replica never returns the older value. `written()`
 *   updates L1 before L2 where L1 holds the key or a read of it is under way; otherwise the next read goes to L2, which
 *   holds the new version, and if L2 could not be updated, `written()` puts the new version in L1 after all.
 * - **L1 on another replica** may serve the older value until `observed()` runs for the write's event (the event lag),
 *   and never longer than `local.ttlMs`. Validating each L1 hit against L2 would cost the L2 round trip L1 exists to
 *   save, so L1 is kept fresh by events instead. `observed()` remembers the version while a read of the key is under
 *   way, so a fill that was loaded before the write and lands after the event is refused too; events for keys this
 *   replica neither holds nor reads leave L1 alone.
 * - **An outage never fails a read.** When daprd or Redis fails or takes longer than `timeoutMs`, the read goes to
 *   `load()`; the first failure is logged at warn, the return at info, every skipped lookup counted as an L2 `error`,
 *   and L2 is left alone for `outageBackoffMs` so reads do not each wait for the timeout. `written()` never throws: if
 *   it cannot update the entry it deletes it; if that fails too, the older entry can be served until its TTL ends (a
 *   warning says so).
 *
 * Versions must grow with every write to a key, deletions included; a key that can be deleted and created again (a
 * sku, say) needs a version that keeps growing across the two. Absent items (404s) are not cached.
 */
export interface VersionedCache<T> {
  /** Cache-aside: L1 (in-process, per replica) → L2 (Dapr state store, shared) → load(); a miss fills both. */
  read(key: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  /** After a committed write (value undefined = deleted): this replica's L1 and the shared L2 serve it from now on. */
  written(key: string, value: T | undefined, version: number): Promise<void>;
  /** Another replica wrote (seen through an event): drop this replica's L1 entry if it is older than `version`. */
  observed(key: string, version: number): void;
}

export interface VersionedCacheOptions<T> {
  /** e.g. 'product'; key prefix in the store and the `cache` label of the metrics. */
  name: string;
  daprHost: string;
  daprHttpPort: number;
  daprApiToken: string;
  /** Default 'cache'. */
  storeName?: string;
  versionOf: (value: T) => number;
  /** L2 entry TTL (metadata.ttlInSeconds); default 300, the component's. Sent with every save, so the cache knows it. */
  ttlSeconds?: number;
  /** L1; false or left out = none. `ttlMs` bounds how long another replica's write can go unseen if its event is lost. */
  local?: { maxEntries: number; ttlMs: number } | false;
  logger: Logger;
  /** From metrics.ts; counts hits/misses per level. */
  metrics?: Metrics;
  /** How long one call to daprd may take before it counts as an outage; default 300 ms. */
  timeoutMs?: number;
}

/** What L2 holds for one key: a version and its value, or the version at which the item was deleted. */
export type StoredEntry<T> = { version: number; value: T } | { version: number; deleted: true };

/** L2 as the cache needs it: reads with the entry's ETag, and the two conditional saves the Redis component offers. */
export interface CacheStore {
  /** Undefined when absent; throws when the store cannot answer. */
  get(key: string): Promise<{ entry: unknown; etag: string } | undefined>;
  /**
   * With an ETag: replace only if the entry is unchanged since it was read. Without: insert only if the key is absent.
   * 'refused' when the condition did not hold; throws when the store cannot answer.
   */
  save(key: string, entry: StoredEntry<unknown>, etag: string | undefined): Promise<'saved' | 'refused'>;
  delete(key: string): Promise<void>;
}

export interface DaprCacheStoreOptions {
  daprHost: string;
  daprHttpPort: number;
  daprApiToken: string;
  storeName: string;
  ttlSeconds: number;
  timeoutMs: number;
}

/**
 * The Dapr state API over HTTP (fetch keeps connections to daprd alive). Every save uses `first-write` concurrency, so
 * every entry carries the Redis component's first-write mark; with that, a save without an ETag succeeds only where
 * the key is absent (components-contrib state/redis, setDefaultQuery). daprd answers such a refusal with 500, not 409
 * (no ETag was sent, so the component does not call it an ETag mismatch): a 500 on a save counts as refused, and an
 * outage shows on the next get.
 */
export function daprCacheStore(options: DaprCacheStoreOptions): CacheStore {
  const base = `http://${options.daprHost}:${options.daprHttpPort}/v1.0/state/${encodeURIComponent(options.storeName)}`;
  const headers = { 'dapr-api-token': options.daprApiToken };
  const saveHeaders = { ...headers, 'content-type': 'application/json' };
  const metadata = { ttlInSeconds: String(options.ttlSeconds) };
  const call = (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) });
  const failure = async (what: string, response: Response) => new Error(`daprd answered ${response.status} to a cache ${what}: ${(await response.text()).slice(0, 300)}`);

  return {
    async get(key) {
      const response = await call(`${base}/${encodeURIComponent(key)}`, { headers });
      if (response.status === 204) return undefined;
      if (response.status !== 200) throw await failure('read', response);
      const text = await response.text();
      if (text === '') return undefined;
      return { entry: JSON.parse(text) as unknown, etag: response.headers.get('etag') ?? '' };
    },
    async save(key, entry, etag) {
      const item = { key, value: entry, options: { concurrency: 'first-write' }, metadata, ...(etag ? { etag } : {}) };
      const response = await call(base, { method: 'POST', headers: saveHeaders, body: JSON.stringify([item]) });
      if (response.ok) return 'saved';
      if (response.status === 409 || response.status === 500) {
        await response.body?.cancel();
        return 'refused';
      }
      throw await failure('save', response);
    },
    async delete(key) {
      const response = await call(`${base}/${encodeURIComponent(key)}`, { method: 'DELETE', headers });
      if (!response.ok) throw await failure('delete', response);
    },
  };
}

export function createVersionedCache<T>(options: VersionedCacheOptions<T>): VersionedCache<T> {
  const ttlSeconds = options.ttlSeconds ?? 300;
  const store = daprCacheStore({
    daprHost: options.daprHost,
    daprHttpPort: options.daprHttpPort,
    daprApiToken: options.daprApiToken,
    storeName: options.storeName ?? 'cache',
    ttlSeconds,
    timeoutMs: options.timeoutMs ?? 300,
  });
  return versionedCacheOver(store, {
    name: options.name,
    versionOf: options.versionOf,
    ttlSeconds,
    local: options.local ?? false,
    logger: options.logger,
    metrics: options.metrics,
  });
}

export interface VersionedCacheCore<T> {
  name: string;
  versionOf: (value: T) => number;
  ttlSeconds: number;
  local: { maxEntries: number; ttlMs: number } | false;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** After an L2 failure, reads skip L2 this long; default 1000 ms. */
  outageBackoffMs?: number;
  /** Tests move time. */
  now?: () => number;
}

/** Writers retry a compare-and-swap this often against other writers of the same key before deleting the entry. */
const maxWriteAttempts = 4;

/** The cache over any store with the semantics of `CacheStore`; `createVersionedCache` puts Dapr's under it. */
export function versionedCacheOver<T>(store: CacheStore, options: VersionedCacheCore<T>): VersionedCache<T> {
  const { name, versionOf, logger } = options;
  const now = options.now ?? Date.now;
  const outageBackoffMs = options.outageBackoffMs ?? 1000;
  // A reader may fill only while the entry of a write that raced it must still exist (see the guarantee above).
  const fillWithinMs = (options.ttlSeconds * 1000) / 2;
  const local = options.local ? new LocalLayer<T>(options.local.maxEntries, options.local.ttlMs, now) : undefined;
  const storeKey = (key: string) => `${name}:${key}`;
  const counters = countersFor(name, options.metrics);

  let downSince: number | undefined;
  let skipStoreUntil = 0;
  const storeFailed = (operation: string, error: unknown) => {
    skipStoreUntil = now() + outageBackoffMs;
    if (downSince !== undefined) {
      logger.debug('cache store still unavailable', { cache: name, operation, error: String(error) });
      return;
    }
    downSince = now();
    logger.warn('cache store unavailable; reads go to the database until it is back', { cache: name, operation, error: String(error) });
  };
  const storeAnswered = () => {
    if (downSince === undefined) return;
    logger.info('cache store available again', { cache: name, unavailableMs: now() - downSince });
    downSince = undefined;
  };

  /** The L2 entry, `absent`, or `unavailable` (failed, or skipped during an outage). */
  const readStore = async (key: string): Promise<StoredEntry<T> | 'absent' | 'unavailable'> => {
    if (now() < skipStoreUntil) return 'unavailable';
    try {
      const found = await store.get(storeKey(key));
      storeAnswered();
      return found && isStoredEntry<T>(found.entry) ? found.entry : 'absent';
    } catch (error) {
      storeFailed('read', error);
      return 'unavailable';
    }
  };

  const fillStore = async (key: string, value: T, version: number): Promise<boolean> => {
    try {
      return (await store.save(storeKey(key), { version, value }, undefined)) === 'saved';
    } catch (error) {
      storeFailed('fill', error);
      return false;
    }
  };

  /**
   * Puts the entry in L2 unless L2 already holds as much. False when other writers kept changing the entry through
   * every attempt; throws when the store cannot answer.
   */
  const replaceInStore = async (key: string, entry: StoredEntry<T>): Promise<boolean> => {
    for (let attempt = 0; attempt < maxWriteAttempts; attempt++) {
      const current = await store.get(storeKey(key));
      const held = current && isStoredEntry<T>(current.entry) ? current.entry : undefined;
      if (held && !isNewer(entry, held)) return true;
      if ((await store.save(storeKey(key), entry, current?.etag)) === 'saved') return true;
    }
    return false;
  };

  /**
   * Keys this replica is reading past L1 right now. L1 takes a write's or an event's version only for keys it holds or
   * is reading: that is all a version has to protect (a fill that loaded before the write), and a stream of events for
   * keys nobody reads here (a bulk load) does not push the read ones out of L1.
   */
  const reading = new Map<string, number>();
  const concerns = (key: string) => local !== undefined && (local.holds(key) || reading.has(key));

  /** L2, then the database, for a key L1 did not answer; `floor` is a version known to exist (observed). */
  const readThrough = async (key: string, floor: number, load: () => Promise<T | undefined>): Promise<T | undefined> => {
    const missedAt = now();
    const shared = await readStore(key);
    if (shared === 'unavailable') {
      counters.count('l2', 'error');
    } else if (shared !== 'absent' && shared.version >= floor) {
      counters.count('l2', 'hit');
      const value = 'deleted' in shared ? undefined : shared.value;
      local?.offer(key, shared.version, value, 'deleted' in shared ? 'deleted' : 'value');
      return value;
    } else {
      counters.count('l2', 'miss');
    }

    const value = await load();
    if (value === undefined) return undefined;
    const version = versionOf(value);
    // Only an absent key is filled; an entry older than the floor is the writer's to replace.
    if (shared === 'absent') {
      if (now() - missedAt >= fillWithinMs) return value;
      // Refused: a write landed since the miss; its version is in L2 and this one may be older.
      if (!(await fillStore(key, value, version))) return value;
    }
    local?.offer(key, version, value, 'value');
    return value;
  };

  return {
    async read(key, load) {
      if (!local) return readThrough(key, Number.NEGATIVE_INFINITY, load);
      const cached = local.get(key);
      if (cached && cached.state !== 'observed') {
        counters.count('l1', 'hit');
        return cached.value;
      }
      counters.count('l1', 'miss');
      reading.set(key, (reading.get(key) ?? 0) + 1);
      try {
        // A version another replica wrote (observed through its event): nothing older may be served from here on.
        return await readThrough(key, cached?.version ?? Number.NEGATIVE_INFINITY, load);
      } finally {
        const left = (reading.get(key) ?? 1) - 1;
        if (left === 0) reading.delete(key);
        else reading.set(key, left);
      }
    },

    async written(key, value, version) {
      const entry: StoredEntry<T> = value === undefined ? { version, deleted: true } : { version, value };
      const state = value === undefined ? 'deleted' : 'value';
      // L1 first, so a read on this replica that starts now already sees the write.
      if (concerns(key)) local?.offer(key, version, value, state);
      try {
        const replaced = await replaceInStore(key, entry);
        storeAnswered();
        if (replaced) return;
        logger.debug('cache entry kept changing under concurrent writers; deleting it', { cache: name, key, version });
      } catch (error) {
        storeFailed('write', error);
      }
      // L2 may still hold the older version: this replica's own reads at least get the new one from L1.
      local?.offer(key, version, value, state);
      try {
        await store.delete(storeKey(key));
        logger.debug('cache entry deleted instead of updated', { cache: name, key, version });
      } catch (error) {
        logger.warn('cache entry could not be updated nor deleted; it can serve an older version until its TTL ends', {
          cache: name,
          key,
          version,
          ttlSeconds: options.ttlSeconds,
          error: String(error),
        });
      }
    },

    observed(key, version) {
      if (concerns(key)) local?.offer(key, version, undefined, 'observed');
    },
  };
}

/** The entry's order among entries of one key: by version; at the same version a deletion comes after the value. */
const rankOf = (entry: StoredEntry<unknown>): number => ('deleted' in entry ? 1 : 0);
const isNewer = (entry: StoredEntry<unknown>, than: StoredEntry<unknown>): boolean =>
  entry.version > than.version || (entry.version === than.version && rankOf(entry) > rankOf(than));

function isStoredEntry<T>(entry: unknown): entry is StoredEntry<T> {
  if (typeof entry !== 'object' || entry === null) return false;
  const candidate = entry as { version?: unknown; value?: unknown; deleted?: unknown };
  return typeof candidate.version === 'number' && ('value' in candidate || candidate.deleted === true);
}

/** The metrics' counters for one cache, looked up once instead of by labels on every read. */
function countersFor(name: string, metrics: Metrics | undefined): { count(level: CacheLevel, result: CacheResult): void } {
  if (!metrics) return { count: () => undefined };
  const children = new Map<string, { inc(): void }>();
  for (const level of ['l1', 'l2'] as const) {
    for (const result of ['hit', 'miss', 'error'] as const) {
      children.set(`${level}:${result}`, metrics.cacheRequests.labels({ cache: name, level, result }));
    }
  }
  return { count: (level, result) => children.get(`${level}:${result}`)?.inc() };
}

/**
 * What L1 knows of a key: its value, its deletion, or only that a version exists elsewhere (`observed`: an event said
 * another replica wrote it). At the same version, a value replaces an observation and a deletion replaces a value.
 */
export type LocalState = 'observed' | 'value' | 'deleted';
const localRank: Record<LocalState, number> = { observed: 0, value: 1, deleted: 2 };

export interface LocalEntry<T> {
  version: number;
  value: T | undefined;
  state: LocalState;
  expiresAt: number;
}

/**
 * L1: a bounded map in least-recently-used order (a Map keeps insertion order; a hit moves its key to the end). Its
 * versions never go back: an offer older than what is held is ignored, so a slow fill cannot undo a write or an event.
 */
export class LocalLayer<T> {
  private readonly entries = new Map<string, LocalEntry<T>>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any entry, live or expired, is held for the key; no change to the order. */
  holds(key: string): boolean {
    return this.entries.has(key);
  }

  /** The live entry for the key, if any; a hit becomes the most recently used. */
  get(key: string): LocalEntry<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  offer(key: string, version: number, value: T | undefined, state: LocalState): void {
    const held = this.entries.get(key);
    if (held && held.expiresAt > this.now()) {
      const older = version < held.version || (version === held.version && localRank[state] < localRank[held.state]);
      if (older) return;
    }
    this.entries.delete(key);
    this.entries.set(key, { version, value, state, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

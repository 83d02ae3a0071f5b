import { MongoBulkWriteError, MongoClient, MongoError, type Collection, type Db, type Document, type IndexDescription, type OptionalUnlessRequiredId } from 'mongodb';
import type { Logger } from './logger';
import { sleep } from './timing';

export interface Database {
  db: Db;
  /** Throws when the server cannot be reached within the configured selection timeout. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  uri: string;
  database: string;
  serverSelectionTimeoutMs: number;
  appName: string;
}

/**
 * Opens a client without waiting for the server: the driver connects on first use, so a service starts (and reports
 * "not ready") while its database is still down, and recovers on its own when the database returns.
 */
export function openDatabase(options: DatabaseOptions): Database {
  const client = new MongoClient(options.uri, {
    appName: options.appName,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs,
    connectTimeoutMS: options.serverSelectionTimeoutMs,
    // FerretDB (local) and MongoDB (cluster) both support retryable reads; writes stay explicit.
    retryWrites: false,
  });
  const db = client.db(options.database);
  // The driver's implicit connect on first use gives up for good when it fails: every later operation then answers
  // "Topology is closed", even once the database is there (mongodb 7.9; two operations racing the first connect are
  // enough). An explicit connect after that works, so the client is connected here, again until it succeeds.
  let closed = false;
  void (async () => {
    let delayMs = 250;
    while (!closed) {
      try {
        await client.connect();
        return;
      } catch {
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 5000);
      }
    }
  })();
  return {
    db,
    async ping() {
      await db.command({ ping: 1 });
    },
    close: () => {
      closed = true;
      return client.close();
    },
  };
}

const unavailableErrorNames = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClearedError',
]);

/** True when the error means "the database cannot be reached", which clients should see as 503, not 500. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return error instanceof MongoError && unavailableErrorNames.has(error.name);
}

/**
 * True for a unique-index violation. MongoDB says 11000/11001; FerretDB says 11000 on inserts and upserts but, on
 * updates, `1 InternalError` carrying its backend's own wording (SQLite: "UNIQUE constraint failed"; PostgreSQL:
 * "duplicate key value violates unique constraint"), so every shape counts.
 */
export function isDuplicateKey(error: unknown): boolean {
  if (!(error instanceof MongoError)) return false;
  if (error.code === 11000 || error.code === 11001) return true;
  return error.code === 1 && /UNIQUE constraint failed|duplicate key value violates unique constraint/i.test(error.message);
}

export type IndexPlan = Record<string, IndexDescription[]>;

/**
 * Creates the indexes a service relies on (unique constraints above all). Retries until it succeeds or the signal
 * aborts, so a service started before its database still ends up with every index before it reports ready.
 */
export async function ensureIndexes(db: Db, plan: IndexPlan, logger: Logger, signal: AbortSignal): Promise<void> {
  let delayMs = 250;
  for (;;) {
    try {
      // FerretDB 1.24 (SQLite) looks nothing up through a secondary index (docs/runtime.md#ferretdb-and-_id), so there
      // a non-unique index is only a cost on every write (a quarter of an audit insert); unique ones still refuse
      // duplicates. MongoDB gets every index.
      const onFerretDb = await isFerretDb(db);
      let skipped = 0;
      // One index per command: FerretDB 1.24 panics on a createIndexes that names several indexes which already
      // exist (every restart on a kept database); one at a time is idempotent on FerretDB and MongoDB alike.
      for (const [collection, indexes] of Object.entries(plan)) {
        for (const index of indexes) {
          if (onFerretDb && !index.unique) skipped += 1;
          else await db.collection(collection).createIndexes([index]);
        }
      }
      logger.info('database indexes ensured', { collections: Object.keys(plan), ...(skipped ? { nonUniqueSkippedOnFerretDb: skipped } : {}) });
      return;
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn('database not reachable yet; will retry index creation', { error: String(error), delayMs });
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}

/** True when the server is FerretDB (it names its version in `buildInfo`), whose SQLite backend differs (runtime.md). */
export async function isFerretDb(db: Db): Promise<boolean> {
  const info = await db.admin().command({ buildInfo: 1 });
  return typeof info['ferretdbVersion'] === 'string';
}

/**
 * Inserts the documents whose `_id` is not taken yet, unordered (one that exists skips only itself), and returns the
 * positions in `docs` of those that were already stored; any other failure is thrown (then some may be stored: the
 * caller sends them again, and the stored ones come back as already there). What idempotent writes rest on: an import
 * run again, an event delivered twice, a backfill racing another replica.
 */
export async function insertSkippingDuplicates<T extends Document>(collection: Collection<T>, docs: OptionalUnlessRequiredId<T>[]): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await collection.insertMany(docs, { ordered: false });
    return new Set();
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) {
      if (docs.length === 1 && isDuplicateKey(error)) return new Set([0]);
      throw error;
    }
    const writeErrors = [error.writeErrors].flat();
    if (writeErrors.length === 0 || writeErrors.some((writeError) => writeError.code !== 11000)) throw error;
    return new Set(writeErrors.map((writeError) => writeError.index));
  }
}

/**
 * Hands what a cursor yields to `handle` in batches of `batchSize` (the last one shorter; an empty source hands over
 * nothing) and returns how many there were: loading an in-memory index, a backfill.
 */
export async function forEachInBatches<T>(source: AsyncIterable<T>, batchSize: number, handle: (batch: T[]) => void | Promise<void>): Promise<number> {
  let count = 0;
  let batch: T[] = [];
  for await (const item of source) {
    batch.push(item);
    if (batch.length === batchSize) {
      await handle(batch);
      count += batch.length;
      batch = [];
    }
  }
  if (batch.length) await handle(batch);
  return count + batch.length;
}

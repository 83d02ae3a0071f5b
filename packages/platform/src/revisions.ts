import { randomUUID } from 'node:crypto';
import { MongoServerError, type Collection, type Db, type Document, type Filter, type OptionalUnlessRequiredId } from 'mongodb';
import { AppError } from './errors';
import type { Logger } from './logger';
import { isDatabaseUnavailable, isDuplicateKey, isFerretDb } from './mongo';
import { sleep } from './timing';

/**
 * The platform's one concurrency rule: every write to an existing document is preceded by the insert of a revision
 * claim, and only the claim's winner writes.
 *
 * FerretDB 1.24 applies a filtered update (and replace) by reading the matching document, changing it in Go and writing
 * it back in a separate step, without re-checking the filter, so `{_id, version}` is no compare-and-set there. What is
 * atomic on every backend (FerretDB on SQLite or PostgreSQL, MongoDB) is an insert into a unique index. So a writer
 * reads revision n, computes the whole next image, inserts the claim `<id>:<n+1>` (unique `_id`), and only if that
 * insert wins replaces the document. Two writers can never both hold n+1, and the holder of n+2 must have read n+1, so
 * writes to one document are totally ordered. See docs/runtime.md, "Concurrency rule".
 */

/** Documents written through the rule carry an internal write counter; it starts at 1 on insert. */
export interface Revised {
  _id: string;
  /** Internal: bumped by every write, the outbox clean-up included. Absent on documents stored before the rule. */
  _rev?: number;
}

export interface RevisionOptions {
  /**
   * A claim older than this whose revision is still not applied is taken for a crashed writer's: the next writer rolls
   * it forward (or repairs the aggregate change it describes). Must exceed any write's normal duration by far.
   */
  staleAfterMs: number;
  /** How long a writer keeps retrying against other writers before it answers 409 `concurrent-update`. */
  retryBudgetMs: number;
  logger?: Logger | undefined;
}

export const defaultRevisionOptions: RevisionOptions = { staleAfterMs: 5000, retryBudgetMs: 5000 };

/** What the losers of a race see once the retry budget is spent: nothing was written, so sending again is safe. */
export const concurrentUpdate = (what: string) =>
  new AppError('conflict', {
    code: 'concurrent-update',
    detail: `${what} is being changed by other requests right now; nothing was changed, try again`,
    retryAfterSeconds: 1,
  });

export const isConcurrentUpdate = (error: unknown) => error instanceof AppError && error.code === 'concurrent-update';

/** A claim on revision `<id>:<rev>`; `doc` is the full image the winner writes, so others can roll it forward. */
export interface RevisionClaim<T> {
  _id: string;
  doc?: T;
  intent?: Document;
  at: Date;
  /** Tells the claim's own writer apart from anyone else's (a claim id can be re-created after pruning). */
  token: string;
}

export type WriteResult<T> =
  | { status: 'written'; doc: T }
  | { status: 'unchanged'; doc: T }
  | { status: 'missing' };

export interface WriteOptions {
  /** Overrides the retry budget; 0 means one attempt (e.g. the outbox clean-up, which the relay repeats anyway). */
  budgetMs?: number;
}

/**
 * Decides the next image from the current document; undefined writes nothing. It runs again on every retry, so it must
 * compute from `current` alone (plus reads) and have no effects of its own.
 */
export type Change<T> = (current: T) => T | undefined | Promise<T | undefined>;

export interface RevisedCollection<T extends Revised> {
  readonly collection: Collection<T>;
  /** `<collection>_revisions`: the claims, unique by `_id`. Not an audit log: old claims are pruned. */
  readonly claims: Collection<RevisionClaim<T>>;
  /**
   * `<collection>_outbox_marks`: one `<id>:<rev>` per write that carried undelivered events, inserted before that write
   * and removed once they are out (events.ts). The outbox relay reads this small collection, never the whole
   * collection: FerretDB answers a filter on any field but `_id` by reading every document.
   */
  readonly outboxMarks: Collection<OutboxMark>;
  /** Inserts a new document at revision 1 (throws a duplicate-key error like insertOne). */
  insert(doc: T): Promise<T>;
  /** Applies `change` to the current document as its next revision, through a claim. */
  write(id: string, change: Change<T>, options?: WriteOptions): Promise<WriteResult<T>>;
  /**
   * Removes a document for good. Only for documents nobody writes any more (deleted ones whose last event is out):
   * a removal is not a claimed write.
   */
  remove(id: string, filter?: Filter<T>): Promise<boolean>;
}

/** A write that carried events: `_id` is `<document id>:<revision>`. */
export interface OutboxMark {
  _id: string;
  at: Date;
}

/** The mark of the write that stored revision `rev` of document `id`. */
export const outboxMarkIdOf = (id: string, rev: number) => `${id}:${rev}`;

/** The document id and revision a mark names. */
export const outboxMarkOf = (markId: string): { id: string; rev: number } => {
  const at = markId.lastIndexOf(':');
  return { id: markId.slice(0, at), rev: Number(markId.slice(at + 1)) };
};

const carriesEvents = (image: unknown) => (image as { _outboxPending?: unknown })._outboxPending === true;

/** Any stored document with a string id, as the claims and meta documents are. */
interface Row extends Document {
  _id: string;
}

const claimIdOf = (id: string, rev: number) => `${id}:${rev}`;
/** One repairer per stale period: a repairer that crashed holding its marker hands over when the next period starts. */
const repairMarkerOf = (claimId: string, ageMs: number, staleAfterMs: number) =>
  `${claimId}:repair:${Math.floor(ageMs / staleAfterMs)}`;

/** Full jitter on a growing ceiling: losers of one race spread out instead of colliding again in step. */
export function backoffMs(attempt: number, baseMs = 5, capMs = 200): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

/** A wait that neither keeps the process alive nor outlasts a shutdown. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

const ageOf = (claim: { at: Date }) => Date.now() - new Date(claim.at).getTime();

/** The filter that matches revision `rev` exactly; revision 0 is a document stored before the rule existed. */
const atRevision = (id: string, rev: number): Filter<Row> =>
  rev === 0 ? { _id: id, _rev: { $exists: false } } : { _id: id, _rev: rev };

/** A server's answer is definite (nothing was written); a lost connection leaves the outcome open. */
const isDefinite = (error: unknown) => error instanceof MongoServerError && !isDatabaseUnavailable(error);

export function revised<T extends Revised>(db: Db, name: string, options: RevisionOptions = defaultRevisionOptions): RevisedCollection<T> {
  const collection = db.collection<T>(name);
  const claims = db.collection<RevisionClaim<T>>(`${name}_revisions`);
  const outboxMarks = db.collection<OutboxMark>(`${name}_outbox_marks`);
  const raw = collection as unknown as Collection<Row>;

  /** Before a write that carries events: so a crash between the write and its delivery leaves the relay a trace. */
  async function markOutbox(id: string, rev: number): Promise<void> {
    try {
      await outboxMarks.insertOne({ _id: outboxMarkIdOf(id, rev), at: new Date() });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
  const { staleAfterMs, logger } = options;

  const read = (id: string) => raw.findOne({ _id: id }) as Promise<T | null>;

  /**
   * FerretDB's SQLite backend looks a document up by key only for a filter of `{_id}` alone and reads every document
   * for `{_id, _rev}` (docs/runtime.md). There, the revision is checked on the document read and the replace names the
   * key alone: the same read-then-replace FerretDB performs internally anyway, so nothing is lost. MongoDB keeps the
   * atomic `{_id, _rev}` filter.
   */
  let keyOnly: Promise<boolean> | undefined;
  const onFerretDb = () =>
    (keyOnly ??= isFerretDb(db).catch(() => {
      keyOnly = undefined;
      return false;
    }));

  const replace = async (rev: number, image: T): Promise<{ matchedCount: number }> => {
    const { _id, ...rest } = image as Row;
    if (!(await onFerretDb())) return raw.replaceOne(atRevision(_id, rev), rest);
    const current = await read(_id);
    if (!current || (current._rev ?? 0) !== rev) return { matchedCount: 0 };
    return raw.replaceOne({ _id }, rest);
  };

  /**
   * Deletes `current` if it matches `filter`. On FerretDB an equality filter is checked on the document read and the
   * delete names the key alone, as `replace` does: `{_id, _deleted: true}` would read every document there. A removed
   * document is one nobody writes any more, so the check cannot go stale; other filters go to the server as they are.
   */
  async function removeMatching(current: T, filter: Filter<Row>): Promise<boolean> {
    const { _id } = current as Row;
    const fields = Object.entries(filter);
    const equalities = fields.every(([key, value]) => !key.startsWith('$') && value !== null && typeof value !== 'object');
    if (!equalities || !(await onFerretDb())) return (await raw.deleteOne({ ...filter, _id })).deletedCount === 1;
    if (!fields.every(([key, value]) => (current as Row)[key] === value)) return false;
    return (await raw.deleteOne({ _id })).deletedCount === 1;
  }

  /** Best effort: a stale claim n-1 is never looked at again once n+1 is written. */
  function prune(id: string, rev: number): void {
    if (rev < 1) return;
    claims.deleteOne({ _id: claimIdOf(id, rev) }).catch(() => undefined);
  }

  /**
   * Claim `claimId` is held by someone else. If it is stale and the document still sits below it, roll the stored
   * image forward (or, if that image can no longer be written, drop the claim), so a crashed writer blocks nobody.
   */
  async function settle(id: string, rev: number, claimId: string): Promise<void> {
    const claim = await claims.findOne({ _id: claimId });
    if (!claim?.doc) return;
    const age = ageOf(claim);
    if (age < staleAfterMs) return;
    const marker = repairMarkerOf(claimId, age, staleAfterMs);
    try {
      await claims.insertOne({ _id: marker, at: new Date(), token: randomUUID() });
    } catch (error) {
      if (isDuplicateKey(error)) return;
      throw error;
    }
    try {
      const current = await read(id);
      if (!current || (current._rev ?? 0) !== rev) return;
      try {
        await replace(rev, claim.doc);
        logger?.warn('rolled a stale write forward', { claim: claimId, ageMs: age });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        await claims.deleteOne({ _id: claimId, token: claim.token });
        logger?.warn('dropped a stale write that can no longer be applied', { claim: claimId, ageMs: age });
      }
    } finally {
      await claims.deleteOne({ _id: marker }).catch(() => undefined);
    }
  }

  async function write(id: string, change: Change<T>, writeOptions: WriteOptions = {}): Promise<WriteResult<T>> {
    const budgetMs = writeOptions.budgetMs ?? options.retryBudgetMs;
    const deadline = Date.now() + budgetMs;
    for (let attempt = 0; ; attempt += 1) {
      const current = await read(id);
      if (!current) return { status: 'missing' };
      const rev = current._rev ?? 0;
      const next = await change(current);
      if (next === undefined) return { status: 'unchanged', doc: current };
      const image = { ...next, _id: id, _rev: rev + 1 } as T;
      if (carriesEvents(image)) await markOutbox(id, rev + 1);
      const claimId = claimIdOf(id, rev + 1);
      const token = randomUUID();
      const claimedAt = Date.now();
      try {
        await claims.insertOne({ _id: claimId, doc: image, at: new Date(claimedAt), token } as OptionalUnlessRequiredId<RevisionClaim<T>>);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        await settle(id, rev, claimId);
        if (Date.now() >= deadline) throw concurrentUpdate('This item');
        await sleep(backoffMs(attempt));
        continue;
      }

      let matched: number;
      try {
        matched = (await replace(rev, image)).matchedCount;
      } catch (error) {
        // A definite refusal (a unique index, say) leaves nothing behind; a lost connection leaves the claim for a
        // later writer to roll forward once stale, as the change may or may not have landed.
        if (isDefinite(error)) await claims.deleteOne({ _id: claimId, token }).catch(() => undefined);
        throw error;
      }
      if (matched === 1) {
        prune(id, rev - 1);
        return { status: 'written', doc: image };
      }
      // The document was not at `rev` any more. Either this writer stalled past the stale threshold and someone rolled
      // its image forward, or its read was so old that claim rev+1 had been pruned and was re-created here.
      const now = await read(id);
      const mine = await claims.findOne({ _id: claimId, token });
      if (now && mine && (now._rev ?? 0) === rev + 1 && Date.now() - claimedAt >= staleAfterMs) {
        return { status: 'written', doc: now };
      }
      if (mine) await claims.deleteOne({ _id: claimId, token }).catch(() => undefined);
      if (!now) return { status: 'missing' };
      if (Date.now() >= deadline) throw concurrentUpdate('This item');
    }
  }

  return {
    collection,
    claims,
    outboxMarks,
    async insert(doc) {
      const stored = { ...doc, _rev: 1 };
      if (carriesEvents(stored)) await markOutbox(doc._id, 1);
      await collection.insertOne(stored as OptionalUnlessRequiredId<T>);
      return stored;
    },
    write,
    async remove(id, filter = {}) {
      const current = await read(id);
      if (!current) return false;
      const deleted = await removeMatching(current, filter as Filter<Row>);
      const rev = current._rev ?? 0;
      // One `{_id}` each: FerretDB would read every claim for an `$in`.
      await Promise.all([rev - 1, rev, rev + 1].map((r) => claims.deleteOne({ _id: claimIdOf(id, r) }).catch(() => undefined)));
      return deleted;
    },
  };
}

/** The intent of an aggregate change, stored with its claim so anyone can finish it after a crash. */
export interface AggregateIntent extends Document {
  op: string;
}

export interface AggregateClaims<I extends AggregateIntent> {
  /**
   * Runs `change` as the aggregate's next revision: after every earlier one completed, before any later one starts.
   * `change` does its writes through the document rule and reads what it checks inside, after the claim is won.
   */
  run<R>(intent: I, change: () => Promise<R>): Promise<R>;
  /** Repairs an incomplete change a crash left (once stale); resolves when none is left. For start-up. */
  recover(signal?: AbortSignal): Promise<void>;
}

export interface AggregateOptions<I extends AggregateIntent> extends RevisionOptions {
  /** Holds the meta document (`_id: name`, `rev`) and the claims (`<name>:<rev>`). */
  collection: string;
  name: string;
  /**
   * Re-runs an intent idempotently from the current state (e.g. recompute every descendant's path from the moved
   * node's). Called for a crashed change, and after a change that failed half-way.
   */
  repair(intent: I): Promise<void>;
}

interface AggregateMeta {
  _id: string;
  rev: number;
}

/**
 * One claim for invariants that span documents (a tree, say): every structural change claims `<name>:<n+1>` first,
 * does its writes, then marks the meta document complete at n+1. Losers wait until the winner completed, then re-read
 * and re-check, so two changes that are each valid alone but not together (A under B, B under A) cannot both pass.
 */
export function aggregateClaims<I extends AggregateIntent>(db: Db, options: AggregateOptions<I>): AggregateClaims<I> {
  const store = db.collection<Row>(options.collection);
  const { name, staleAfterMs, logger } = options;
  const claimIdOf = (rev: number) => `${name}:${rev}`;

  async function currentRev(): Promise<number> {
    const meta = (await store.findOne({ _id: name })) as AggregateMeta | null;
    return meta?.rev ?? 0;
  }

  /** Only the holder (or repairer) of `rev` marks it complete; the `$lt` keeps a late one from moving it backwards. */
  async function complete(rev: number): Promise<void> {
    const result = await store.updateOne({ _id: name, rev: { $lt: rev } }, { $set: { rev } });
    if (result.matchedCount === 1) return;
    try {
      await store.insertOne({ _id: name, rev });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** The change at `rev` is incomplete: if its claim is stale, finish it (one repairer per stale period). */
  async function settle(base: number): Promise<'repaired' | 'wait'> {
    const claimId = claimIdOf(base + 1);
    const claim = (await store.findOne({ _id: claimId })) as RevisionClaim<never> | null;
    if (!claim) return 'repaired';
    const age = ageOf(claim);
    if (age < staleAfterMs) return 'wait';
    const marker = repairMarkerOf(claimId, age, staleAfterMs);
    try {
      await store.insertOne({ _id: marker, at: new Date() });
    } catch (error) {
      if (isDuplicateKey(error)) return 'wait';
      throw error;
    }
    try {
      if ((await currentRev()) !== base) return 'repaired';
      logger?.warn('repairing an incomplete change', { claim: claimId, intent: claim.intent, ageMs: age });
      await options.repair(claim.intent as I);
      await complete(base + 1);
      return 'repaired';
    } finally {
      await store.deleteOne({ _id: marker }).catch(() => undefined);
    }
  }

  async function run<R>(intent: I, change: () => Promise<R>): Promise<R> {
    const deadline = Date.now() + options.retryBudgetMs;
    for (let attempt = 0; ; attempt += 1) {
      const base = await currentRev();
      const claimId = claimIdOf(base + 1);
      const token = randomUUID();
      try {
        await store.insertOne({ _id: claimId, intent, at: new Date(), token });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        if ((await settle(base)) === 'repaired') continue;
        if (Date.now() >= deadline) throw concurrentUpdate('The structure');
        await sleep(backoffMs(attempt, 10, 250));
        continue;
      }
      // A reader that stalled across several changes may have re-created a pruned claim: it is not the next one.
      if ((await currentRev()) !== base) {
        await store.deleteOne({ _id: claimId, token }).catch(() => undefined);
        continue;
      }
      // A long change keeps its claim fresh, so nobody takes it for a crashed one and repairs it concurrently.
      const heartbeat = setInterval(() => {
        store.updateOne({ _id: claimId, token }, { $set: { at: new Date() } }).catch(() => undefined);
      }, Math.max(100, Math.floor(staleAfterMs / 3)));
      heartbeat.unref();
      let result: R;
      try {
        result = await change();
      } catch (error) {
        clearInterval(heartbeat);
        // The change may have stopped half-way: finish its intent now rather than leaving the aggregate blocked until
        // the claim goes stale. If even that fails, the claim stays for the next change (or start-up) to repair.
        try {
          await options.repair(intent);
          await complete(base + 1);
        } catch (repairError) {
          logger?.warn('a failed change left its claim for repair', { claim: claimId, error: String(repairError) });
        }
        throw error;
      }
      clearInterval(heartbeat);
      await complete(base + 1);
      if (base >= 1) store.deleteOne({ _id: claimIdOf(base) }).catch(() => undefined);
      return result;
    }
  }

  async function recover(signal?: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal?.aborted) {
      try {
        const base = await currentRev();
        const claim = (await store.findOne({ _id: claimIdOf(base + 1) })) as RevisionClaim<never> | null;
        if (!claim) return;
        const age = ageOf(claim);
        if (age < staleAfterMs) await pause(staleAfterMs - age + 50, signal);
        else await settle(base);
        failures = 0;
      } catch (error) {
        failures += 1;
        logger?.debug('recovery check failed; will retry', { error: String(error) });
        await pause(Math.min(5000, 250 * 2 ** failures), signal);
      }
    }
  }

  return { run, recover };
}

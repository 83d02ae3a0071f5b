import { randomUUID } from 'node:crypto';
import { AppError, isDuplicateKey, revised, sleep, type IndexPlan, type Logger, type Revised, type RevisionOptions } from '@mercato/platform';
import type { Db } from 'mongodb';
import { appendLinks, type ChainEntry, type Checkpoint } from '../domain/audit-chain';
import type { AuditEvent } from '../domain/audit-event-schema';
import type { CheckpointSigner } from '../domain/checkpoint-signing';
import { documentOf, storedEventOf, type AuditEventDocument, type AuditRepository } from './audit-repository';

/**
 * The chain log and who may append to it.
 *
 * - **One writer per chain.** A replica holds a lease on one chain (`audit-1`, `audit-2`, …; a document written under
 *   the platform's concurrency rule, renewed every third of its term) and only the holder appends. Replicas therefore
 *   never interleave a chain, and a chain never waits on another replica. A replica started again under the same name
 *   (POD_NAME) takes its own chain back at once; a new one takes the first chain whose lease ran out, or a new chain.
 * - **Positions are unique inserts** (`_id` = `<chain>:<position>`, ordered `insertMany`): should two writers ever both
 *   believe they hold a chain (a replica stalled past its term), the second to reach a position fails on the unique
 *   `_id` and stops, so the chain never forks, on FerretDB as on MongoDB.
 * - **Store first, then chain.** Before a batch is stored, a marker naming its events is inserted; after its new events
 *   are chained, the marker goes. A crash in between leaves the marker: the chain's next holder links the events that
 *   batch stored and the chain does not hold yet (a redelivered copy is a duplicate and never takes a position).
 * - **Checkpoints.** Every few seconds the holder signs (chain, position, hash) with a key held outside the database and
 *   stores it (and writes it to its log, a copy outside the database), chained to the previous checkpoint.
 */
export interface ChainLease extends Revised {
  _id: string;
  owner: string;
  expiresAt: Date;
  /** Where the chain ended at the last renewal: a hint, the true tail is found from it. */
  tail: { position: number; hash: string } | null;
}

interface BatchMarker {
  _id: string;
  chain: string;
  /** The chain's next position when the batch started: its events, if chained, are at or after it. */
  fromPosition: number;
  ids: string[];
  at: Date;
}

export const chainCollections = {
  entries: 'audit_chain',
  markers: 'audit_chain_markers',
  checkpoints: 'audit_checkpoints',
  leases: 'audit_chain_leases',
} as const;

export const chainIndexes: IndexPlan = {
  [chainCollections.entries]: [{ key: { chain: 1, position: 1 }, name: 'chain_position', unique: true }],
  [chainCollections.checkpoints]: [{ key: { chain: 1, position: 1 }, name: 'chain_position', unique: true }],
  [chainCollections.markers]: [{ key: { chain: 1, at: 1 }, name: 'chain_at' }],
};

export const chainLeaseLost = (chain: string) =>
  new AppError('dependency-unavailable', {
    code: 'chain-unavailable',
    detail: `This replica no longer holds the audit chain ${chain}; it is taking one again, send again shortly`,
    retryAfterSeconds: 1,
  });

export interface ChainStoreOptions {
  db: Db;
  events: AuditRepository;
  /** This replica's stable name (POD_NAME): the lease's owner. */
  owner: string;
  signer: CheckpointSigner;
  leaseMs: number;
  checkpointIntervalMs: number;
  revisions: RevisionOptions;
  logger: Logger;
  chainPrefix?: string;
}

export interface ChainStore {
  /** Takes a chain, links what a crash left unlinked, and keeps the lease and the checkpoints going until stop(). */
  start(signal: AbortSignal): Promise<void>;
  /** Stores the events (once each) and appends the new ones to this replica's chain; one call at a time. */
  writeBatch(events: AuditEvent[]): Promise<void>;
  /** The chain this replica appends to, once started. */
  currentChain(): string | undefined;
  /** Signs a last checkpoint and gives the lease up. */
  stop(): Promise<void>;
}

const chainKey = (chain: string, position: number) => `${chain}:${position}`;

export function createChainStore(options: ChainStoreOptions): ChainStore {
  const { db, logger } = options;
  const prefix = options.chainPrefix ?? 'audit';
  const entries = db.collection<ChainEntry>(chainCollections.entries);
  const markers = db.collection<BatchMarker>(chainCollections.markers);
  const checkpoints = db.collection<Checkpoint>(chainCollections.checkpoints);
  const eventsCollection = db.collection<AuditEventDocument>('audit_events');
  const leases = revised<ChainLease>(db, chainCollections.leases, options.revisions);

  interface Held {
    chain: string;
    tail: { position: number; hash: string } | undefined;
    lastCheckpoint: { position: number; hash: string } | null;
    expiresAt: number;
  }
  let held: Held | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Appends, recovery and checkpoints of the held chain run one at a time.
  let exclusive: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = exclusive.then(work, work);
    exclusive = run.catch(() => undefined);
    return run;
  };

  /** Takes `chain` when it is free, expired, or already ours; undefined when someone else holds it. */
  async function tryLease(chain: string, onlyIfExpired = false): Promise<ChainLease | undefined> {
    const now = Date.now();
    const expiresAt = new Date(now + options.leaseMs);
    const existing = await leases.collection.findOne({ _id: chain });
    if (!existing) {
      try {
        return await leases.insert({ _id: chain, owner: options.owner, expiresAt, tail: null });
      } catch (error) {
        if (isDuplicateKey(error)) return undefined;
        throw error;
      }
    }
    const free = existing.expiresAt.getTime() < now || (!onlyIfExpired && existing.owner === options.owner);
    if (!free) return undefined;
    let taken: ChainLease | undefined;
    await leases.write(
      chain,
      (current) => {
        const stillFree = current.expiresAt.getTime() < Date.now() || (!onlyIfExpired && current.owner === options.owner);
        if (!stillFree) return undefined;
        taken = { ...current, owner: options.owner, expiresAt };
        return taken;
      },
      { budgetMs: 0 },
    ).catch(() => undefined);
    return taken;
  }

  /** The chain's true last position: from the lease's hint, probe forward by `_id` (the one lookup FerretDB indexes). */
  async function findTail(chain: string, hint: ChainLease['tail']): Promise<Held['tail']> {
    const exists = async (position: number) => (await entries.findOne({ _id: chainKey(chain, position) }, { projection: { _id: 1 } })) !== null;
    let low = hint && (await exists(hint.position)) ? hint.position : 0;
    // Gallop past the hint, then halve back: O(log n) lookups however far the hint lags.
    let step = 1;
    let high = low + step;
    while (await exists(high)) {
      low = high;
      step *= 2;
      high = low + step;
    }
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await exists(middle)) low = middle;
      else high = middle;
    }
    if (low === 0) return undefined;
    const last = await entries.findOne({ _id: chainKey(chain, low) });
    return last ? { position: last.position, hash: last.hash } : undefined;
  }

  async function latestCheckpoint(chain: string): Promise<Held['lastCheckpoint']> {
    const [latest] = await checkpoints.find({ chain }).sort({ position: -1 }).limit(1).toArray();
    return latest ? { position: latest.position, hash: latest.hash } : null;
  }

  async function append(state: Held, stored: AuditEventDocument[]): Promise<void> {
    if (stored.length === 0) return;
    const links = appendLinks(state.chain, state.tail, stored.map(storedEventOf));
    try {
      await entries.insertMany(links, { ordered: true });
    } catch (error) {
      if (isDuplicateKey(error) || (error as { code?: number }).code === 11000) {
        // Someone else appended at our position: we lost the chain. Stop using it; what we stored stays marked.
        if (held === state) held = undefined;
        throw chainLeaseLost(state.chain);
      }
      throw error;
    }
    state.tail = { position: links.at(-1)!.position, hash: links.at(-1)!.hash };
  }

  /** Links what batches that crashed between storing and chaining left behind (their markers say which). */
  async function recover(state: Held, olderThanMs = 0): Promise<void> {
    const left = await markers.find({ chain: state.chain }).sort({ at: 1 }).toArray();
    for (const marker of left) {
      if (Date.now() - marker.at.getTime() < olderThanMs) continue;
      const since = await entries.find({ chain: state.chain, position: { $gte: marker.fromPosition } }, { projection: { eventId: 1 } }).toArray();
      const chained = new Set(since.map((entry) => entry.eventId));
      // Only what this batch stored (an event another batch stored is that batch's to link), in the batch's order. One
      // query rather than a lookup per event: FerretDB reads the collection for each (see docs/runtime.md).
      const storedByBatch = new Map((await eventsCollection.find({ batch: marker._id }).toArray()).map((doc) => [doc._id, doc]));
      const unlinked = [...new Set(marker.ids)].filter((id) => !chained.has(id) && storedByBatch.has(id)).map((id) => storedByBatch.get(id)!);
      await append(state, unlinked);
      await markers.deleteOne({ _id: marker._id });
      if (unlinked.length) logger.warn('linked events a crashed batch had stored', { chain: state.chain, events: unlinked.length });
    }
  }

  async function checkpoint(state: Held): Promise<void> {
    const tail = state.tail;
    if (!tail || (state.lastCheckpoint && state.lastCheckpoint.position >= tail.position)) return;
    const signed = options.signer.sign({
      chain: state.chain,
      position: tail.position,
      hash: tail.hash,
      at: new Date().toISOString(),
      previous: state.lastCheckpoint,
    });
    try {
      await checkpoints.insertOne(signed);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    state.lastCheckpoint = { position: signed.position, hash: signed.hash };
    // A copy outside the database: whoever can rewrite the database cannot rewrite what was shipped from the log.
    logger.info('audit checkpoint', { checkpoint: signed });
  }

  async function take(chain: string, lease: ChainLease): Promise<Held> {
    const state: Held = { chain, tail: await findTail(chain, lease.tail), lastCheckpoint: await latestCheckpoint(chain), expiresAt: lease.expiresAt.getTime() };
    await recover(state);
    return state;
  }

  async function acquire(signal: AbortSignal): Promise<Held> {
    let delayMs = 250;
    while (!signal.aborted) {
      try {
        for (let slot = 1; ; slot += 1) {
          const chain = `${prefix}-${slot}`;
          const lease = await tryLease(chain);
          if (lease) {
            const state = await take(chain, lease);
            logger.info('holding audit chain', { chain, tail: state.tail?.position ?? 0 });
            return state;
          }
        }
      } catch (error) {
        logger.warn('could not take an audit chain yet', { error: String(error) });
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 5000);
      }
    }
    throw new Error('stopped');
  }

  async function renew(state: Held): Promise<boolean> {
    const expiresAt = new Date(Date.now() + options.leaseMs);
    let kept = false;
    await leases.write(
      state.chain,
      (current) => {
        if (current.owner !== options.owner) return undefined;
        kept = true;
        return { ...current, expiresAt, tail: state.tail ?? null };
      },
      { budgetMs: 1000 },
    );
    if (kept) state.expiresAt = expiresAt.getTime();
    return kept;
  }

  /** Chains whose holder is gone, with batches it left half done: take each for a moment and finish them. */
  async function adoptOrphans(): Promise<void> {
    const stale = await markers.find({ at: { $lt: new Date(Date.now() - 2 * options.leaseMs) } }).limit(100).toArray();
    for (const chain of new Set(stale.map((marker) => marker.chain))) {
      if (chain === held?.chain) continue;
      const lease = await tryLease(chain, true);
      if (!lease) continue;
      const state = await take(chain, lease);
      await checkpoint(state);
      await leases.write(chain, (current) => (current.owner === options.owner ? { ...current, expiresAt: new Date(0), tail: state.tail ?? null } : undefined), { budgetMs: 1000 });
      logger.info('finished an abandoned audit chain', { chain });
    }
  }

  let lastCheckpointAt = Date.now();
  async function tick(signal: AbortSignal): Promise<void> {
    const state = held;
    if (!state) {
      held = await acquire(signal);
      return;
    }
    await serially(async () => {
      if (!(await renew(state))) {
        logger.warn('lost the audit chain lease', { chain: state.chain });
        if (held === state) held = undefined;
        return;
      }
      // Batches still in flight are younger than a lease term; older markers are from a failed write of ours.
      await recover(state, options.leaseMs);
      if (Date.now() - lastCheckpointAt >= options.checkpointIntervalMs) {
        await checkpoint(state);
        lastCheckpointAt = Date.now();
      }
    });
    await adoptOrphans();
  }

  return {
    async start(signal) {
      held = await acquire(signal);
      const period = Math.max(100, Math.min(options.leaseMs / 3, options.checkpointIntervalMs));
      const loop = async () => {
        if (stopped || signal.aborted) return;
        try {
          await tick(signal);
        } catch (error) {
          logger.warn('audit chain upkeep failed; retrying', { error: String(error) });
        }
        if (!stopped && !signal.aborted) timer = setTimeout(() => void loop(), period);
      };
      timer = setTimeout(() => void loop(), period);
    },

    writeBatch: (events) =>
      serially(async () => {
        const state = held;
        // A margin below the term: a lease about to run out may already be someone else's when the insert lands.
        if (!state || state.expiresAt - Date.now() < options.leaseMs / 4) throw chainLeaseLost(state?.chain ?? prefix);
        const batch = randomUUID();
        const docs = events.map((event) => documentOf(event, state.chain, batch));
        await markers.insertOne({ _id: batch, chain: state.chain, fromPosition: (state.tail?.position ?? 0) + 1, ids: docs.map((doc) => doc._id), at: new Date() });
        const stored = await options.events.insertNew(docs);
        await append(state, stored);
        await markers.deleteOne({ _id: batch }).catch((error: unknown) => logger.warn('batch marker left for recovery', { batch, error: String(error) }));
      }),

    currentChain: () => held?.chain,

    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const state = held;
      if (!state) return;
      await serially(async () => {
        await checkpoint(state);
        // Given up rather than left to expire, so a replica that replaces this one (a new pod name) continues it.
        await leases.write(state.chain, (current) => (current.owner === options.owner ? { ...current, expiresAt: new Date(0), tail: state.tail ?? null } : undefined), { budgetMs: 1000 });
        held = undefined;
      }).catch((error: unknown) => logger.warn('could not seal the audit chain on stop', { error: String(error) }));
    },
  };
}

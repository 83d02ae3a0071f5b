import type { Collection, Db } from 'mongodb';
import { createChainVerifier, entryIdOf, type ChainEntry, type ChainVerificationReport, type Checkpoint } from '../domain/audit-chain';
import { chainCollections, type ChainLease } from './chain-store';
import { eventsCollection, storedEventOf, type AuditEventDocument } from './audit-repository';

export interface ChainSummary {
  chain: string;
  /** The replica holding it now, or null when its lease ran out (a replica that is gone). */
  holder: string | null;
  /** The last position as of the holder's last renewal (a few seconds behind while events arrive). */
  knownTail: number;
}

export interface ChainReader {
  chains(): Promise<ChainSummary[]>;
  /** Recomputes positions `from`…`to` (default: the whole chain) against the events and the signed checkpoints. */
  verify(chain: string, from: number | undefined, to: number | undefined): Promise<ChainVerificationReport | undefined>;
}

/** Entries read per round trip. */
const pageSize = 500;

/**
 * A chain's events in one pass, joined to its entries by id. Looking each event up by `_id` would read the whole
 * collection once per event on FerretDB 1.24 (SQLite), whose `_id` lookups miss its own index (docs/runtime.md), so
 * the chain's events are read in stored order instead: that is chain order, apart from events a crash recovery linked
 * late, which wait in `ahead` until their entry comes. An event that is gone is looked for to the end, once.
 */
function chainEvents(events: Collection<AuditEventDocument>, chain: string) {
  const cursor = events.find({ chain }).batchSize(pageSize);
  const ahead = new Map<string, AuditEventDocument>();
  let exhausted = false;
  return {
    async take(id: string): Promise<AuditEventDocument | undefined> {
      while (!ahead.has(id) && !exhausted) {
        const next = await cursor.next();
        if (next) ahead.set(next._id, next);
        else exhausted = true;
      }
      const found = ahead.get(id);
      ahead.delete(id);
      return found;
    },
    close: () => cursor.close(),
  };
}

export function createChainReader(db: Db, isValidCheckpoint: (checkpoint: Checkpoint) => boolean): ChainReader {
  const entries = db.collection<ChainEntry>(chainCollections.entries);
  const checkpoints = db.collection<Checkpoint>(chainCollections.checkpoints);
  const leases = db.collection<ChainLease>(chainCollections.leases);
  const events = db.collection<AuditEventDocument>(eventsCollection);

  return {
    async chains() {
      const all = await leases.find({}).sort({ _id: 1 }).toArray();
      const now = Date.now();
      return all.map((lease) => ({ chain: lease._id, holder: lease.expiresAt.getTime() > now ? lease.owner : null, knownTail: lease.tail?.position ?? 0 }));
    },

    async verify(chain, from = 1, to) {
      const lease = await leases.findOne({ _id: chain });
      if (!lease) return undefined;
      const anchorEntry = from > 1 ? await entries.findOne({ _id: entryIdOf(chain, from - 1) }) : null;
      const verifier = createChainVerifier({
        chain,
        from,
        anchor: anchorEntry ? { position: anchorEntry.position, hash: anchorEntry.hash } : undefined,
        isValidCheckpoint,
      });
      const signed = await checkpoints.find({ chain }).sort({ position: 1 }).toArray();
      let nextCheckpoint = 0;
      // Checkpoints before the range: only their signatures and the link to the first one in range.
      while (nextCheckpoint < signed.length && signed[nextCheckpoint]!.position < from) verifier.checkpoint(signed[nextCheckpoint++]!);

      const upper = to ?? Number.MAX_SAFE_INTEGER;
      let position = from;
      let last = from - 1;
      const range = to === undefined ? { $gte: from } : { $gte: from, $lte: to };
      // One pass in position order (a single read of the collection on FerretDB, an index range on MongoDB), joined
      // with one pass over the chain's events.
      const cursor = entries.find({ chain, position: range }).sort({ position: 1 }).batchSize(pageSize);
      const chained = chainEvents(events, chain);
      try {
        let page: ChainEntry[] = [];
        const feed = async () => {
          for (const entry of page) {
            if (verifier.settled) break;
            // A second entry claiming a position already given (its `position` field edited): the entry given first
            // was verified in that place; this one is no link of the chain.
            if (entry.position < position) continue;
            // A gap: the positions between are given as missing, so the verifier names the first one.
            for (; position < entry.position && !verifier.settled; position += 1) verifier.entry(position, undefined, undefined);
            const event = await chained.take(entry.eventId);
            verifier.entry(entry.position, entry, event ? storedEventOf(event) : undefined);
            while (nextCheckpoint < signed.length && signed[nextCheckpoint]!.position <= entry.position) verifier.checkpoint(signed[nextCheckpoint++]!);
            position = entry.position + 1;
            last = entry.position;
          }
          page = [];
        };
        for await (const entry of cursor) {
          page.push(entry);
          if (page.length === pageSize) await feed();
          if (verifier.settled) break;
        }
        if (!verifier.settled) await feed();
      } finally {
        await Promise.all([cursor.close(), chained.close()]);
      }
      // Checkpoints beyond the last entry: a cut-off tail (or, with `to`, simply beyond the range asked for).
      while (nextCheckpoint < signed.length && signed[nextCheckpoint]!.position <= upper) verifier.checkpoint(signed[nextCheckpoint++]!);
      return verifier.finish(last);
    },
  };
}

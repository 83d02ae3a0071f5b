import type { Db } from 'mongodb';
import { isDuplicateKey } from './mongo';
import { defaultRevisionOptions, revised, type Revised, type RevisionOptions } from './revisions';

/**
 * A natural key that must be unique (an e-mail address, an external identity), kept as a document whose `_id` IS the
 * key: `{_id: key, ownerId}`. An insert into `_id` is atomic on every backend, and a read by `_id` is the cheapest read
 * FerretDB's SQLite backend has (docs/runtime.md#ferretdb-and-_id), where a unique index on a field of the owner's
 * document would be neither (FerretDB enforces none on array elements, and reads every document for `{email}`).
 *
 * The owner's document stays authoritative; a key is what makes the value unique and findable. The rule that keeps the
 * two in step:
 * - a key is held (inserted, or taken over) BEFORE the owner is written with it, and freed (`ownerId: null`) only AFTER
 *   the owner no longer has it (deleted, or changed to another value);
 * - so every live owner has its keys, and a key may at worst be an orphan: naming an owner that is gone, or that no
 *   longer has the value (a crash between the two writes, or a refused write). A reader checks the key against the
 *   owner and takes an orphan for "nobody"; a writer takes an orphan over once it is older than a claim can be stale.
 * Keys change only through the platform's claimed writes, so two writers taking over one orphan are ordered.
 */
export interface UniqueKey extends Revised {
  _id: string;
  /** Null once freed: the value may be taken at once. */
  ownerId: string | null;
  /** When the key was last held; an orphan younger than the stale threshold may still be a write in flight. */
  at: Date;
}

export type Acquired = 'held' | 'taken';

export interface UniqueKeys {
  /** Holds `key` for `ownerId` before the owner is written with it; `taken` when another owner has it. */
  acquire(key: string, ownerId: string): Promise<Acquired>;
  /** Frees `key` if it still names `ownerId`. Best effort: a key left behind is an orphan, which is harmless. */
  release(key: string, ownerId: string): Promise<void>;
  /** The owner a key names; undefined when there is none (or it is free). Check it against the owner. */
  ownerOf(key: string): Promise<string | undefined>;
}

/**
 * `holds(ownerId, key)`: whether the owner, read by `_id`, is live and has the value now. Called only for a key another
 * owner seems to hold, to tell a real holder from an orphan.
 */
export function createUniqueKeys(
  db: Db,
  collectionName: string,
  holds: (ownerId: string, key: string) => Promise<boolean>,
  revisions: RevisionOptions = defaultRevisionOptions,
): UniqueKeys {
  const store = revised<UniqueKey>(db, collectionName, revisions);

  async function orphaned(key: UniqueKey): Promise<boolean> {
    if (key.ownerId === null) return true;
    if (await holds(key.ownerId, key._id)) return false;
    // Gone, or with another value: either its writer crashed between the key and the owner, or it is still writing.
    return Date.now() - new Date(key.at).getTime() >= revisions.staleAfterMs;
  }

  return {
    async acquire(key, ownerId) {
      for (;;) {
        try {
          await store.insert({ _id: key, ownerId, at: new Date() });
          return 'held';
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
        let outcome: Acquired = 'taken';
        const result = await store.write(key, async (current) => {
          outcome = current.ownerId === ownerId || (await orphaned(current)) ? 'held' : 'taken';
          if (outcome === 'taken' || current.ownerId === ownerId) return undefined;
          return { ...current, ownerId, at: new Date() };
        });
        // Keys are freed, never removed, so a missing one was removed by hand: insert it again.
        if (result.status !== 'missing') return outcome;
      }
    },

    async release(key, ownerId) {
      await store
        .write(key, (current) => (current.ownerId === ownerId ? { ...current, ownerId: null, at: new Date() } : undefined))
        .catch(() => undefined);
    },

    async ownerOf(key) {
      const found = await store.collection.findOne({ _id: key }, { projection: { ownerId: 1 } });
      return found?.ownerId ?? undefined;
    },
  };
}

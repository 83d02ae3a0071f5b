import { randomUUID } from 'node:crypto';
import { isDuplicateKey, type Logger, type VersionedCache } from '@mercato/platform';
import type { Db } from 'mongodb';
import type { Category } from '../domain/category-schema';

/**
 * Every live category, read cache-aside through the platform's two-level cache (cache.ts) under a key that names the
 * state of the tree: `tree@<stamp>`. The stamp is one small document in MongoDB that every category write replaces with
 * a new random value after it committed and before it answers. So:
 *
 * - a cached entry never changes (a change makes a new key), which makes the in-process level safe on every replica
 *   without the events categories does not subscribe to;
 * - a reader on any replica reads the stamp first (one lookup by `_id`) and, once a write has answered, no longer finds
 *   the key of the state before it: no replica serves the older tree after the write's response.
 *
 * The stamp need not grow, only change: whichever of two concurrent replacements lands last first appeared after both
 * writes committed, so whatever a reader loads under it holds both. That is why it may be a plain upsert rather than a
 * claimed write (revisions.ts): a lost replacement loses nothing here.
 */
export interface CategoryTreeCache {
  /** Every live category as of the latest answered write; `load` reads them from the database on a miss. */
  all(load: () => Promise<Category[]>): Promise<Category[]>;
  /** After every committed write, before it answers. Never throws (see `docs/catalog.md` for what a failure costs). */
  changed(): Promise<void>;
}

/** The cached value: the categories and the stamp they were loaded under. */
export interface CachedCategories {
  stamp: string;
  categories: Category[];
}

interface StampDocument {
  _id: string;
  stamp: string;
}

const stampCollection = 'categories_tree_stamp';
const stampId = 'tree';

export function createCategoryTreeCache(db: Db, cache: VersionedCache<CachedCategories>, logger: Logger): CategoryTreeCache {
  const stamps = db.collection<StampDocument>(stampCollection);

  async function replaceStamp(): Promise<void> {
    try {
      await stamps.updateOne({ _id: stampId }, { $set: { stamp: randomUUID() } }, { upsert: true });
    } catch (error) {
      // Two first writes both inserted the document: the other one's stamp is just as new; set ours over it.
      if (!isDuplicateKey(error)) throw error;
      await stamps.updateOne({ _id: stampId }, { $set: { stamp: randomUUID() } });
    }
  }

  return {
    async all(load) {
      // No stamp yet (no write since the collection was created): a stamp of its own, so the key is never shared with
      // a state after the first write.
      const stamp = (await stamps.findOne({ _id: stampId }))?.stamp ?? 'initial';
      const cached = await cache.read(`tree@${stamp}`, async () => ({ stamp, categories: await load() }));
      return cached?.categories ?? load();
    },

    async changed() {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await replaceStamp();
          return;
        } catch (error) {
          if (attempt >= 3) {
            logger.warn('the category tree stamp could not be changed; other readers may see the older tree until its cache entries expire', {
              error: String(error),
            });
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
    },
  };
}

/** Every entry is written once under its own key, so its version only has to exist. */
export const cachedCategoriesVersion = (): number => 1;

import { defaultRevisionOptions, insertSkippingDuplicates, isDuplicateKey, revised, type Revised, type RevisionOptions } from '@mercato/platform';
import type { Db } from 'mongodb';

/**
 * `products_skus`: one key per SKU, `{_id: sku, productId}`, so a read by SKU is a read by `_id`. FerretDB 1.24's
 * SQLite backend filters anything but `{_id}` alone by decoding every product in Go (≈ 25 s at 100,000 products, see
 * docs/catalog.md); MongoDB would serve `{sku}` from its index, and serves `{_id}` just as well.
 *
 * The products collection stays authoritative (its unique `sku` index still refuses a second product with one SKU on
 * every backend); a key is what makes the product findable by SKU. The rule that keeps the two in step:
 * - a key is held (inserted, or taken over) BEFORE a product is written with its SKU, and freed (`productId: null`)
 *   only AFTER the product no longer has it (deleted, or moved to another SKU);
 * - so every live product has its key, and a key may at worst be an orphan: naming a product that is gone, deleted or
 *   now has another SKU (a crash between the two writes, or a refused write). A reader checks the key against the
 *   product and takes an orphan for "no such SKU"; a writer takes an orphan over (below). Nothing is lost on a crash.
 * Keys change only through the platform's claimed writes (revisions.ts), so two writers taking over one orphan, or a
 * take-over racing a release, are ordered: only one of them finds the key free.
 */
export interface SkuKey extends Revised {
  _id: string;
  /** Null once freed: the SKU may be taken at once. */
  productId: string | null;
  /** When the key was last held; an orphan younger than the stale threshold may still be a write in flight. */
  at: Date;
}

export const skuKeysCollection = 'products_skus';

/**
 * Set once every product stored before keys existed has one (a SKU never contains ":" or lower case). Until then a
 * read by SKU that finds no key falls back to the filter by `sku`.
 */
const backfilledMarker = 'backfill:done';

/** What a key's product says about it, read by `_id` with deleted products included. */
export interface KeyHolder {
  sku: string;
  _deleted?: boolean;
}

export type Acquired = 'held' | 'taken';

export interface SkuKeys {
  /** Holds `sku` for `productId` before the product is written with it; `taken` when another product has it. */
  acquire(sku: string, productId: string): Promise<Acquired>;
  /** Frees `sku` if it still names `productId`. Best effort: a key left behind is an orphan, which is harmless. */
  release(sku: string, productId: string): Promise<void>;
  /** The product id a key names; undefined when there is no key (or it is free). Check it against the product. */
  productIdOf(sku: string): Promise<string | undefined>;
  /** True once every product stored before keys existed has one (see `backfill`). */
  backfilled(): Promise<boolean>;
  /**
   * Gives every product that has no key one, from `each` (every live product's id and SKU, in batches), then marks the
   * collection backfilled. Idempotent; keys that exist are left alone.
   */
  backfill(each: (handle: (batch: Array<{ productId: string; sku: string }>) => Promise<void>) => Promise<void>): Promise<void>;
}

export function createSkuKeys(
  db: Db,
  holderOf: (productId: string) => Promise<KeyHolder | undefined>,
  revisions: RevisionOptions = defaultRevisionOptions,
): SkuKeys {
  const store = revised<SkuKey>(db, skuKeysCollection, revisions);
  const keys = store.collection;
  let knownBackfilled = false;

  /** Whether `key` names a product that does not hold its SKU, and is old enough not to be a write in flight. */
  async function orphaned(key: SkuKey): Promise<boolean> {
    if (key.productId === null) return true;
    const holder = await holderOf(key.productId);
    if (holder?._deleted) return true;
    if (holder?.sku === key._id) return false;
    // Gone, or with another SKU: either its writer crashed between the key and the product, or it is still writing.
    return Date.now() - new Date(key.at).getTime() >= revisions.staleAfterMs;
  }

  async function acquire(sku: string, productId: string): Promise<Acquired> {
    for (;;) {
      try {
        await store.insert({ _id: sku, productId, at: new Date() });
        return 'held';
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      let outcome: Acquired = 'taken';
      const result = await store.write(sku, async (current) => {
        outcome = current.productId === productId || (await orphaned(current)) ? 'held' : 'taken';
        if (outcome === 'taken' || current.productId === productId) return undefined;
        return { ...current, productId, at: new Date() };
      });
      // Keys are freed, never removed, so a missing one was removed by hand: insert it again.
      if (result.status !== 'missing') return outcome;
    }
  }

  async function release(sku: string, productId: string): Promise<void> {
    await store
      .write(sku, (current) => (current.productId === productId ? { ...current, productId: null, at: new Date() } : undefined))
      .catch(() => undefined);
  }

  async function backfilled(): Promise<boolean> {
    knownBackfilled ||= (await keys.findOne({ _id: backfilledMarker }, { projection: { _id: 1 } })) !== null;
    return knownBackfilled;
  }

  return {
    acquire,
    release,

    async productIdOf(sku) {
      const key = await keys.findOne({ _id: sku }, { projection: { productId: 1 } });
      return key?.productId ?? undefined;
    },

    backfilled,

    async backfill(each) {
      if (await backfilled()) return;
      await each(async (batch) => {
        if (batch.length === 0) return;
        const docs = batch.map(({ productId, sku }) => ({ _id: sku, productId, at: new Date(0), _rev: 1 }));
        // Unordered: a key that exists (a replica backfilling at the same time, a product created meanwhile) skips only itself.
        await insertSkippingDuplicates(keys, docs);
      });
      await insertSkippingDuplicates(keys, [{ _id: backfilledMarker, productId: null, at: new Date(), _rev: 1 }]);
      knownBackfilled = true;
    },
  };
}

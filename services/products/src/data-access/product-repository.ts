import {
  changedWithEvent,
  defaultRevisionOptions,
  deletedWithEvent,
  findLiveById,
  forEachInBatches,
  isDatabaseUnavailable,
  isDuplicateKey,
  live,
  outboxIndex,
  revised,
  withEvent,
  withoutOutbox,
  type CloudEvent,
  type EventPublisher,
  type IndexPlan,
  type OutboxFields,
  type RevisionOptions,
  type WriteResult,
} from '@mercato/platform';
import { MongoError, MongoServerError, type Db } from 'mongodb';
import type { Product } from '../domain/product-schema';
import { createSkuKeys } from './sku-keys';

/**
 * Products in MongoDB, the system of record: every write goes through a revision claim (revisions.ts) with its event
 * in the same document write (outbox.ts). `version` is the business version clients see as the ETag; unlike the
 * internal `_rev` it is not bumped by the outbox clean-up, so an ETag stays valid until the product really changes.
 */
interface ProductDocument extends OutboxFields {
  _id: string;
  sku: string;
  name: string;
  description: string;
  categoryIds: string[];
  price: { amount: number; currency: string };
  attributes: Record<string, string | number | boolean>;
  tags: string[];
  stock: number;
  status: Product['status'];
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

const collectionName = 'products';

/**
 * Reads by id, and by SKU through the SKU's key (sku-keys.ts), are `{_id}` reads: index lookups on MongoDB, and on
 * FerretDB's SQLite backend once its `_id` lookup uses its index (docs/catalog.md, "FerretDB at 100,000 products"). The
 * unique `sku` index stays: it is what refuses a second product with one SKU, on every backend. The category count
 * uses the multikey index on MongoDB (FerretDB's SQLite backend reads every product for it).
 */
export const productIndexes: IndexPlan = {
  [collectionName]: [
    { key: { sku: 1 }, name: 'sku_unique', unique: true },
    { key: { categoryIds: 1 }, name: 'category_ids' },
    outboxIndex,
  ],
};

export type InsertOutcome = { ok: true } | { ok: false; reason: 'duplicate-sku' };
export type UpdateOutcome = { ok: true; product: Product } | { ok: false; reason: 'duplicate-sku' | 'not-found' };

/** What a change decides from the current product: its next image and the event describing it. */
export interface ProductDecision {
  next: Product;
  event: CloudEvent;
}

export interface ProductRepository {
  insert(product: Product, event: CloudEvent): Promise<InsertOutcome>;
  findById(id: string): Promise<Product | undefined>;
  findBySku(sku: string): Promise<Product | undefined>;
  /**
   * Writes what `decide` computes from the current product as its next revision. `decide` runs again whenever another
   * write got there first, so it must compute from its argument alone; it may throw (a stale If-Match, say).
   */
  update(id: string, decide: (current: Product) => ProductDecision): Promise<UpdateOutcome>;
  /** Marks the product deleted with the event `describe` builds from its current state; undefined when not found. */
  delete(id: string, describe: (current: Product) => CloudEvent): Promise<Product | undefined>;
  /** Live products filed directly under the category. */
  countInCategory(categoryId: string): Promise<number>;
  /** Every live product, in batches, for loading the search index. */
  forEachBatch(handle: (batch: Product[]) => void, batchSize?: number): Promise<number>;
  /**
   * Gives every product stored before SKU keys existed its key, once per database (a no-op after that); until then a
   * read by SKU that finds no key also filters by `sku`. For start-up.
   */
  backfillSkuKeys(): Promise<void>;
}

const toProduct = (doc: ProductDocument): Product => ({
  id: doc._id,
  sku: doc.sku,
  name: doc.name,
  description: doc.description,
  categoryIds: doc.categoryIds,
  price: { amount: doc.price.amount, currency: doc.price.currency },
  attributes: doc.attributes,
  tags: doc.tags,
  stock: doc.stock,
  status: doc.status,
  createdAt: doc.createdAt.toISOString(),
  updatedAt: doc.updatedAt.toISOString(),
  version: doc.version,
});

const fieldsOf = (product: Product): Omit<ProductDocument, '_id' | keyof Omit<OutboxFields, '_id'>> => ({
  sku: product.sku,
  name: product.name,
  description: product.description,
  categoryIds: product.categoryIds,
  price: product.price,
  attributes: product.attributes,
  tags: product.tags,
  stock: product.stock,
  status: product.status,
  createdAt: new Date(product.createdAt),
  updatedAt: new Date(product.updatedAt),
  version: product.version,
});

/**
 * Nothing was written: the server refused, or the write was never sent (a stale If-Match, a lost claim). After a lost
 * connection it is open whether the write landed.
 */
const isDefinite = (error: unknown) => !(error instanceof MongoError) || (error instanceof MongoServerError && !isDatabaseUnavailable(error));

export function createProductRepository(db: Db, events: EventPublisher, revisions: RevisionOptions = defaultRevisionOptions): ProductRepository {
  const store = revised<ProductDocument>(db, collectionName, revisions);
  const products = store.collection;
  events.watch(store);
  const options = { projection: withoutOutbox };
  const keys = createSkuKeys(db, (productId) => products.findOne({ _id: productId }, { projection: { sku: 1, _deleted: 1 } }).then((doc) => doc ?? undefined), revisions);

  /**
   * Frees a key held for a write that failed, when nothing was written: after a lost connection the product may have
   * been written with the SKU, and its key must stay (an orphan, at worst, if it was not).
   */
  async function releaseAfter(error: unknown, sku: string, id: string): Promise<void> {
    if (isDefinite(error)) await keys.release(sku, id);
  }

  return {
    async insert(product, event) {
      if ((await keys.acquire(product.sku, product.id)) === 'taken') return { ok: false, reason: 'duplicate-sku' };
      let stored: ProductDocument;
      try {
        stored = await store.insert({ _id: product.id, ...fieldsOf(product), ...withEvent(event) });
      } catch (error) {
        await releaseAfter(error, product.sku, product.id);
        // A product stored before keys existed and not backfilled yet: the unique index still refuses the SKU.
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-sku' };
        throw error;
      }
      await events.deliver(store, product.id, stored);
      return { ok: true };
    },

    async findById(id) {
      const doc = await findLiveById(products, id);
      return doc ? toProduct(doc) : undefined;
    },

    async findBySku(sku) {
      const productId = await keys.productIdOf(sku);
      if (productId !== undefined) {
        const doc = await findLiveById(products, productId);
        // The product decides: a key naming a product that no longer has this SKU is an orphan, so no such SKU.
        if (doc?.sku === sku) return toProduct(doc);
      }
      if (await keys.backfilled()) return undefined;
      const doc = await products.findOne({ sku, ...live }, options);
      return doc ? toProduct(doc) : undefined;
    },

    async update(id, decide) {
      // The next SKU, from the current product: a SKU change holds its new key before the product is written with it.
      // `decide` gives the same SKU on a retry (the request's own, or the current one when the request names none).
      const before = await findLiveById(products, id);
      if (!before) return { ok: false, reason: 'not-found' };
      const nextSku = decide(toProduct(before)).next.sku;
      const moving = nextSku !== before.sku;
      if (moving && (await keys.acquire(nextSku, id)) === 'taken') return { ok: false, reason: 'duplicate-sku' };
      let previousSku = before.sku;
      let result: WriteResult<ProductDocument>;
      try {
        result = await store.write(id, (current) => {
          if (current._deleted) return undefined;
          const { next, event } = decide(toProduct(current));
          previousSku = current.sku;
          return changedWithEvent(current, fieldsOf(next), event);
        });
      } catch (error) {
        if (moving) await releaseAfter(error, nextSku, id);
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-sku' };
        throw error;
      }
      if (result.status !== 'written') {
        if (moving) await keys.release(nextSku, id);
        return { ok: false, reason: 'not-found' };
      }
      if (result.doc.sku !== previousSku) await keys.release(previousSku, id);
      await events.deliver(store, id, result.doc);
      return { ok: true, product: toProduct(result.doc) };
    },

    async delete(id, describe) {
      let deleted: Product | undefined;
      const result = await store.write(id, (current) => {
        if (current._deleted) return undefined;
        deleted = toProduct(current);
        return deletedWithEvent(current, describe(deleted));
      });
      if (result.status !== 'written' || !deleted) return undefined;
      await keys.release(deleted.sku, id);
      await events.deliver(store, id, result.doc);
      return deleted;
    },

    countInCategory: (categoryId) => products.countDocuments({ categoryIds: categoryId, ...live }),

    // Sorted by _id so a load is a plain index walk; no skip, so its cost does not grow with the catalog.
    forEachBatch: (handle, batchSize = 2000) =>
      forEachInBatches(products.find({ ...live }, { ...options, batchSize }).sort({ _id: 1 }).map(toProduct), batchSize, handle),

    backfillSkuKeys: () =>
      keys.backfill(async (handle) => {
        const skus = products.find({ ...live }, { projection: { sku: 1 }, batchSize: 2000 }).map((doc) => ({ productId: doc._id, sku: doc.sku }));
        await forEachInBatches(skus, 2000, handle);
      }),
  };
}

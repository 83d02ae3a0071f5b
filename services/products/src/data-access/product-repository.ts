import {
  changedWithEvent,
  defaultRevisionOptions,
  deletedWithEvent,
  findLiveById,
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
} from '@mercato/platform';
import type { Db } from 'mongodb';
import type { Product } from '../domain/product-schema';

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

/** Reads by id and SKU are equality matches (pushed down on FerretDB); the category count uses the multikey index. */
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

export function createProductRepository(db: Db, events: EventPublisher, revisions: RevisionOptions = defaultRevisionOptions): ProductRepository {
  const store = revised<ProductDocument>(db, collectionName, revisions);
  const products = store.collection;
  events.watch(store);
  const options = { projection: withoutOutbox };

  return {
    async insert(product, event) {
      try {
        await store.insert({ _id: product.id, ...fieldsOf(product), ...withEvent(event) });
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-sku' };
        throw error;
      }
      await events.deliver(store, product.id);
      return { ok: true };
    },

    async findById(id) {
      const doc = await findLiveById(products, id);
      return doc ? toProduct(doc) : undefined;
    },

    async findBySku(sku) {
      const doc = await products.findOne({ sku, ...live }, options);
      return doc ? toProduct(doc) : undefined;
    },

    async update(id, decide) {
      try {
        const result = await store.write(id, (current) => {
          if (current._deleted) return undefined;
          const { next, event } = decide(toProduct(current));
          return changedWithEvent(current, fieldsOf(next), event);
        });
        if (result.status !== 'written') return { ok: false, reason: 'not-found' };
        await events.deliver(store, id);
        return { ok: true, product: toProduct(result.doc) };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-sku' };
        throw error;
      }
    },

    async delete(id, describe) {
      let deleted: Product | undefined;
      const result = await store.write(id, (current) => {
        if (current._deleted) return undefined;
        deleted = toProduct(current);
        return deletedWithEvent(current, describe(deleted));
      });
      if (result.status !== 'written') return undefined;
      await events.deliver(store, id);
      return deleted;
    },

    countInCategory: (categoryId) => products.countDocuments({ categoryIds: categoryId, ...live }),

    async forEachBatch(handle, batchSize = 2000) {
      let count = 0;
      let batch: Product[] = [];
      // Sorted by _id so a load is a plain index walk; no skip, so its cost does not grow with the catalog.
      for await (const doc of products.find({ ...live }, { ...options, batchSize }).sort({ _id: 1 })) {
        batch.push(toProduct(doc));
        if (batch.length === batchSize) {
          handle(batch);
          count += batch.length;
          batch = [];
        }
      }
      if (batch.length) handle(batch);
      return count + batch.length;
    },
  };
}

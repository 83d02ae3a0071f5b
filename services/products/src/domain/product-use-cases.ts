import { randomUUID } from 'node:crypto';
import { AppError, staleVersion, type CloudEvent, type EventPublisher } from '@mercato/platform';
import type { CategoriesClient } from '../data-access/categories-client';
import type { ProductRepository } from '../data-access/product-repository';
import type { NewProduct, Product, ProductChanges, ProductReplacement, ProductStatus } from './product-schema';
import type { ProductSearchIndex, ProductSearchQuery, ProductSearchResult } from './product-search';

export const productEvents = {
  created: 'catalog.product.created',
  updated: 'catalog.product.updated',
  deleted: 'catalog.product.deleted',
} as const;

/** Who is asking, as far as products care: editors and admins see drafts and archived products, others do not. */
export interface Viewer {
  subject: string;
  seesUnpublished: boolean;
}

/** The read side of the detail cache (the platform's VersionedCache fits). */
export interface ProductDetailCache {
  read(key: string, load: () => Promise<Product | undefined>): Promise<Product | undefined>;
  written(key: string, value: Product | undefined, version: number): Promise<void>;
}

export interface ProductUseCases {
  create(input: NewProduct, actor: string): Promise<Product>;
  /** `ref` is an id or a SKU, in any case. */
  get(ref: string, viewer: Viewer): Promise<Product>;
  search(query: ProductSearchQuery, viewer: Viewer): ProductSearchResult;
  update(ref: string, changes: ProductChanges, actor: string, requiredVersion?: number): Promise<Product>;
  replace(ref: string, replacement: ProductReplacement, actor: string, requiredVersion?: number): Promise<Product>;
  remove(ref: string, actor: string, requiredVersion?: number): Promise<void>;
  /** Live products filed directly under a category (the categories service asks before it deletes one). */
  countInCategory(categoryId: string): Promise<number>;
}

export interface ProductUseCaseOptions {
  currency: string;
  /** Reads by id go through it when given. */
  cache?: ProductDetailCache | undefined;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notFound = (ref: string) => new AppError('not-found', { code: 'product-not-found', detail: `No product "${ref}"` });
const duplicateSku = (sku: string | undefined) =>
  new AppError('conflict', { code: 'duplicate-sku', detail: `The SKU ${sku ? `"${sku}" ` : ''}is already used by another product` });

export function createProductUseCases(
  repository: ProductRepository,
  categories: CategoriesClient,
  index: ProductSearchIndex,
  events: EventPublisher,
  options: ProductUseCaseOptions,
): ProductUseCases {
  const { cache } = options;
  const byId = (id: string) => (cache ? cache.read(id, () => repository.findById(id)) : repository.findById(id));

  /** By id (through the cache) when it looks like one, else by SKU; a UUID-shaped SKU is tried as a SKU too. */
  async function find(ref: string): Promise<Product | undefined> {
    if (uuidPattern.test(ref)) {
      const product = await byId(ref.toLowerCase());
      if (product) return product;
    }
    return repository.findBySku(ref.toUpperCase());
  }

  async function existing(ref: string): Promise<Product> {
    const product = await find(ref);
    if (!product) throw notFound(ref);
    return product;
  }

  function checkCurrency(currency: string): void {
    if (currency !== options.currency) {
      throw new AppError('unprocessable', {
        code: 'currency-not-supported',
        detail: `The catalog sells in ${options.currency}; a price in ${currency} is not accepted`,
        issues: [{ path: 'body.price.currency', message: `must be ${options.currency}` }],
      });
    }
  }

  /** Every category must exist; asked of the categories service, so a 503 there is a 503 here and nothing is stored. */
  async function checkCategories(ids: readonly string[], field: string): Promise<void> {
    const missing = await categories.missing(ids);
    if (missing.length) {
      throw new AppError('unprocessable', {
        code: 'category-not-found',
        detail: `No category ${missing.map((id) => `"${id}"`).join(', ')}`,
        issues: missing.map((id) => ({ path: `${field}.${ids.indexOf(id)}`, message: `no category "${id}"` })),
      });
    }
  }

  /** Keeps the writing replica's search and cache current at once; other replicas follow from the event. */
  async function settled(product: Product): Promise<Product> {
    index.upsert(product);
    await cache?.written(product.id, product, product.version);
    return product;
  }

  async function write(
    ref: string,
    actor: string,
    requiredVersion: number | undefined,
    nextOf: (current: Product) => Omit<Product, 'id' | 'createdAt' | 'updatedAt' | 'version'>,
    sku?: string,
  ): Promise<Product> {
    const { id } = await existing(ref);
    const outcome = await repository.update(id, (current) => {
      if (requiredVersion !== undefined && current.version !== requiredVersion) throw staleVersion('The product', requiredVersion, current.version);
      const next: Product = {
        ...nextOf(current),
        id,
        createdAt: current.createdAt,
        updatedAt: new Date().toISOString(),
        version: current.version + 1,
      };
      const event = events.describe({ type: productEvents.updated, subject: id, data: { before: current, after: next }, actor });
      return { next, event };
    });
    if (!outcome.ok) throw outcome.reason === 'duplicate-sku' ? duplicateSku(sku) : notFound(ref);
    return settled(outcome.product);
  }

  const visible = (product: Product, viewer: Viewer) => viewer.seesUnpublished || product.status === 'active';

  return {
    async create(input, actor) {
      checkCurrency(input.price.currency);
      await checkCategories(input.categoryIds, 'body.categoryIds');
      const now = new Date().toISOString();
      const product: Product = { id: randomUUID(), ...input, createdAt: now, updatedAt: now, version: 1 };
      const event = events.describe({ type: productEvents.created, subject: product.id, data: product, actor });
      const outcome = await repository.insert(product, event);
      if (!outcome.ok) throw duplicateSku(input.sku);
      return settled(product);
    },

    async get(ref, viewer) {
      const product = await find(ref);
      // A product the caller may not see is answered as if it did not exist, so drafts do not leak by probing.
      if (!product || !visible(product, viewer)) throw notFound(ref);
      return product;
    },

    search(query, viewer) {
      const statuses: ProductStatus[] = viewer.seesUnpublished ? query.statuses : query.statuses.filter((s) => s === 'active');
      // A viewer who asked only for drafts gets what they may see of them: nothing.
      if (statuses.length === 0) return { items: [], total: 0, facets: { categories: {}, attributes: {}, price: [] } };
      return index.search({ ...query, statuses });
    },

    async update(ref, changes, actor, requiredVersion) {
      if (changes.price) checkCurrency(changes.price.currency);
      if (changes.categoryIds) await checkCategories(changes.categoryIds, 'body.categoryIds');
      return write(ref, actor, requiredVersion, (current) => ({ ...withoutMeta(current), ...changes }), changes.sku);
    },

    async replace(ref, replacement, actor, requiredVersion) {
      checkCurrency(replacement.price.currency);
      await checkCategories(replacement.categoryIds, 'body.categoryIds');
      return write(ref, actor, requiredVersion, () => replacement, replacement.sku);
    },

    async remove(ref, actor, requiredVersion) {
      const { id } = await existing(ref);
      const deleted = await repository.delete(id, (current): CloudEvent => {
        if (requiredVersion !== undefined && current.version !== requiredVersion) throw staleVersion('The product', requiredVersion, current.version);
        return events.describe({ type: productEvents.deleted, subject: id, data: { before: current, version: current.version + 1 }, actor });
      });
      if (!deleted) throw notFound(ref);
      index.remove(id, deleted.version + 1);
      await cache?.written(id, undefined, deleted.version + 1);
    },

    countInCategory: (categoryId) => repository.countInCategory(categoryId),
  };
}

function withoutMeta(product: Product): Omit<Product, 'id' | 'createdAt' | 'updatedAt' | 'version'> {
  const { id: _id, createdAt: _createdAt, updatedAt: _updatedAt, version: _version, ...fields } = product;
  return fields;
}

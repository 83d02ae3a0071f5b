import { sleep, subscribe, type CloudEvent, type Logger, type Outcome, type Subscription, type SubscriptionOptions } from '@mercato/platform';
import type { CategoriesClient } from '../../data-access/categories-client';
import type { IndexConsumerGroups } from '../../data-access/index-consumer-groups';
import type { ProductRepository } from '../../data-access/product-repository';
import type { Product } from '../../domain/product-schema';
import type { ProductSearchIndex } from '../../domain/product-search';

/** What a catalog event changes besides the database: this replica's search index and its in-process cache. */
export interface IndexTargets {
  index: ProductSearchIndex;
  /** Drops this replica's cached copy of a product older than `version` (the platform's VersionedCache fits). */
  cache?: { observed(key: string, version: number): void } | undefined;
  /** The `updatedAt` of the newest change applied per category, so a late event never moves a category back. */
  categoryClock: Map<string, string>;
}

interface CategoryData {
  id: string;
  ancestors: string[];
  updatedAt: string;
}

const isCategory = (value: unknown): value is CategoryData =>
  typeof value === 'object' && value !== null && typeof (value as CategoryData).id === 'string' && Array.isArray((value as CategoryData).ancestors);
const isProduct = (value: unknown): value is Product =>
  typeof value === 'object' && value !== null && typeof (value as Product).id === 'string' && typeof (value as Product).version === 'number';

function placeCategory(targets: IndexTargets, category: CategoryData): void {
  const known = targets.categoryClock.get(category.id);
  if (known !== undefined && known >= category.updatedAt) return;
  targets.categoryClock.set(category.id, category.updatedAt);
  targets.index.placeCategory(category.id, category.ancestors);
}

/**
 * Applies one event of the shared events topic to this replica's index. Every change carries a version (products) or
 * an `updatedAt` (categories), so an event delivered twice or late is ignored; events of other domains are
 * acknowledged untouched. A malformed catalog event is dropped (it would fail the same way on every retry).
 */
export function applyCatalogEvent(event: CloudEvent, targets: IndexTargets): Outcome {
  const data = event.data as Record<string, unknown> | undefined;
  switch (event.type) {
    case 'catalog.product.created':
    case 'catalog.product.updated': {
      const product = event.type === 'catalog.product.created' ? data : data?.['after'];
      if (!isProduct(product)) return 'drop';
      targets.index.upsert(product);
      targets.cache?.observed(product.id, product.version);
      return 'success';
    }
    case 'catalog.product.deleted': {
      const version = data?.['version'];
      if (typeof version !== 'number') return 'drop';
      targets.index.remove(event.subject, version);
      targets.cache?.observed(event.subject, version);
      return 'success';
    }
    case 'catalog.category.created':
    case 'catalog.category.updated': {
      const category = event.type === 'catalog.category.created' ? data : data?.['after'];
      if (!isCategory(category)) return 'drop';
      placeCategory(targets, category);
      return 'success';
    }
    case 'catalog.category.deleted':
      targets.index.forgetCategory(event.subject);
      return 'success';
    default:
      return 'success';
  }
}

export interface CatalogSyncOptions {
  targets: IndexTargets;
  repository: ProductRepository;
  categories: CategoriesClient;
  /** Absent without Redis access: the group then starts where daprd puts it (the stream's beginning). */
  groups: IndexConsumerGroups | undefined;
  subscription: Omit<SubscriptionOptions, 'logger'>;
  logger: Logger;
  shutdown: AbortSignal;
  /** How often the groups of replicas that are gone are looked for. */
  cleanupEveryMs?: number;
}

export interface CatalogSync {
  /** Loads the snapshot and subscribes; retries until it succeeds or the service shuts down. */
  warmUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps this replica's index current: the consumer group is put at the stream's end first, then the snapshot is read
 * (categories from their service, products from MongoDB), then events flow. Whatever happens between the group's
 * position and the snapshot read arrives as an event and is ignored when the snapshot already has it.
 */
export function createCatalogSync(options: CatalogSyncOptions): CatalogSync {
  const { targets, logger, shutdown } = options;
  let subscription: Subscription | undefined;
  let cleanup: NodeJS.Timeout | undefined;

  async function loadOnce(): Promise<void> {
    const started = performance.now();
    // Not the index's, but start-up work on the same products that must be done before the replica reports ready:
    // products stored before SKU keys existed get theirs, once per database (a single key read after that).
    await options.repository.backfillSkuKeys();
    await options.groups?.startAtEnd();
    const places = await options.categories.places();
    for (const place of places) placeCategory(targets, place);
    const products = await options.repository.forEachBatch((batch) => {
      for (const product of batch) targets.index.upsert(product);
    });
    subscription = subscribe({ ...options.subscription, logger }, async (event) => applyCatalogEvent(event, targets));
    await subscription.ready;
    logger.info('search index loaded', { categories: places.length, products, ms: Math.round(performance.now() - started) });
  }

  const removeAbandoned = () =>
    options.groups?.removeAbandoned().catch((error: unknown) => logger.warn('consumer group clean-up failed', { error: String(error) }));

  return {
    async warmUp() {
      for (let attempt = 0; !shutdown.aborted; attempt++) {
        try {
          await loadOnce();
          void removeAbandoned();
          cleanup = setInterval(() => void removeAbandoned(), options.cleanupEveryMs ?? 5 * 60_000);
          cleanup.unref();
          return;
        } catch (error) {
          subscription?.close();
          subscription = undefined;
          logger.warn('search index not loaded yet; retrying', { error: String(error), attempt });
          await sleep(Math.min(500 * 2 ** attempt, 5000));
        }
      }
    },

    async stop() {
      if (cleanup) clearInterval(cleanup);
      subscription?.close();
      await options.groups?.removeOwn().catch(() => undefined);
      await options.groups?.close();
    },
  };
}

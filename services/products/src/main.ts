import { createVersionedCache, reportStartupFailure, serviceIdentityFromConfig, serviceInvokerFromConfig, startService } from '@mercato/platform';
import { productsConfigSchema } from './config';
import { createCategoriesClient } from './data-access/categories-client';
import { createIndexConsumerGroups } from './data-access/index-consumer-groups';
import { createProductRepository, productIndexes } from './data-access/product-repository';
import { createProductSearchIndex } from './data-access/product-search-index';
import type { Product } from './domain/product-schema';
import { createProductUseCases } from './domain/product-use-cases';
import { productRoutes } from './entry-points/api/routes';
import { createCatalogSync } from './entry-points/events/catalog-events';

startService({
  configSchema: productsConfigSchema,
  indexes: productIndexes,
  routes: ({ config, database, events, revisions, logger, shutdown, metrics }) => {
    const repository = createProductRepository(database.db, events, revisions);
    const categories = createCategoriesClient(serviceInvokerFromConfig(config, serviceIdentityFromConfig(config)), config.CATEGORIES_APP_ID);
    const index = createProductSearchIndex();
    // Details: L1 per replica (kept fresh by the same events as the index), L2 the shared `cache` state store.
    const cache = createVersionedCache<Product>({
      name: 'product', daprHost: config.DAPR_HOST, daprHttpPort: config.DAPR_HTTP_PORT, daprApiToken: config.DAPR_API_TOKEN,
      versionOf: (product) => product.version, ttlSeconds: config.CACHE_TTL_SECONDS,
      local: config.CACHE_LOCAL_ENTRIES > 0 && { maxEntries: config.CACHE_LOCAL_ENTRIES, ttlMs: config.CACHE_LOCAL_TTL_MS }, logger, metrics,
    });
    const sync = createCatalogSync({
      targets: { index, cache, categoryClock: new Map() },
      repository,
      categories,
      groups: config.REDIS_URL
        ? createIndexConsumerGroups({
            redisUrl: config.REDIS_URL, stream: config.EVENTS_TOPIC, groupPrefix: config.INDEX_GROUP_PREFIX,
            podName: config.POD_NAME, idleMs: config.INDEX_GROUP_IDLE_MS, logger,
          })
        : undefined,
      subscription: { daprHost: config.DAPR_HOST, daprGrpcPort: config.DAPR_GRPC_PORT, daprApiToken: config.DAPR_API_TOKEN, pubsubName: config.INDEX_PUBSUB, topic: config.EVENTS_TOPIC },
      logger,
      shutdown,
    });
    const useCases = createProductUseCases(repository, categories, index, events, { currency: config.CATALOG_CURRENCY, cache });
    return { router: productRoutes(useCases, config.MAX_PAGE_SIZE), warmUp: sync.warmUp, stop: sync.stop };
  },
}).catch(reportStartupFailure);

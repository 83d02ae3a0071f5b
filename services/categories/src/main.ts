import { createVersionedCache, reportStartupFailure, serviceIdentityFromConfig, serviceInvokerFromConfig, startService } from '@mercato/platform';
import { categoriesConfigSchema } from './config';
import { categoryIndexes, createCategoryRepository } from './data-access/category-repository';
import { cachedCategoriesVersion, createCategoryTreeCache, type CachedCategories } from './data-access/category-tree-cache';
import { productUsageThrough } from './data-access/product-usage';
import { createCategoryUseCases } from './domain/category-use-cases';
import { categoryRoutes } from './entry-points/api/routes';

startService({
  configSchema: categoriesConfigSchema,
  indexes: categoryIndexes,
  routes: ({ config, database, events, revisions, shutdown, logger, metrics }) => {
    const cache = createVersionedCache<CachedCategories>({
      name: 'category-tree', daprHost: config.DAPR_HOST, daprHttpPort: config.DAPR_HTTP_PORT, daprApiToken: config.DAPR_API_TOKEN,
      versionOf: cachedCategoriesVersion, ttlSeconds: config.TREE_CACHE_TTL_SECONDS, logger, metrics,
      // A few trees at most: each write makes a new key, and the older ones are never read again.
      local: config.TREE_CACHE_LOCAL_TTL_MS > 0 && { maxEntries: 4, ttlMs: config.TREE_CACHE_LOCAL_TTL_MS },
    });
    const treeCache = createCategoryTreeCache(database.db, cache, logger);
    return categoryRoutes(
      createCategoryUseCases(createCategoryRepository(database.db, events, revisions, shutdown, treeCache), {
        events,
        products: productUsageThrough(serviceInvokerFromConfig(config, serviceIdentityFromConfig(config))),
      }),
      config.MAX_PAGE_SIZE,
    );
  },
}).catch(reportStartupFailure);

import { reportStartupFailure, serviceIdentityFromConfig, serviceInvokerFromConfig, startService } from '@mercato/platform';
import { categoriesConfigSchema } from './config';
import { categoryIndexes, createCategoryRepository } from './data-access/category-repository';
import { productUsageThrough } from './data-access/product-usage';
import { createCategoryUseCases } from './domain/category-use-cases';
import { categoryRoutes } from './entry-points/api/routes';

startService({
  configSchema: categoriesConfigSchema,
  indexes: categoryIndexes,
  routes: ({ config, database, events, revisions, shutdown }) =>
    categoryRoutes(
      createCategoryUseCases(createCategoryRepository(database.db, events, revisions, shutdown), {
        events,
        products: productUsageThrough(serviceInvokerFromConfig(config, serviceIdentityFromConfig(config))),
      }),
      config.MAX_PAGE_SIZE,
    ),
}).catch(reportStartupFailure);

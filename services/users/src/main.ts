import { reportStartupFailure, serviceIdentityFromConfig, serviceInvokerFromConfig, startService, userActivityClientFromConfig } from '@mercato/platform';
import { usersConfigSchema } from './config';
import { createCustomerNumbers } from './data-access/customer-numbers';
import { createKeycloakAccounts } from './data-access/keycloak-accounts';
import { createUserRepository, userIndexes } from './data-access/user-repository';
import { createUserUseCases } from './domain/user-use-cases';
import { userRoutes } from './entry-points/api/routes';

startService({
  configSchema: usersConfigSchema,
  indexes: userIndexes,
  routes: ({ config, database, events, revisions, logger }) => {
    const identity = serviceIdentityFromConfig(config);
    const useCases = createUserUseCases({
      repository: createUserRepository(database.db, events, revisions),
      events,
      customerNumbers: createCustomerNumbers(serviceInvokerFromConfig(config, identity), config.SEQUENCE_APP_ID, config.CUSTOMER_SEQUENCE),
      accounts: createKeycloakAccounts(config.OIDC_ISSUER, identity, logger),
      activity: userActivityClientFromConfig(config),
      issuer: config.OIDC_ISSUER,
      logger,
    });
    return userRoutes(useCases, config.OIDC_ISSUER);
  },
}).catch(reportStartupFailure);

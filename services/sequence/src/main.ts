import { reportStartupFailure, startService } from '@mercato/platform';
import { sequenceConfigSchema } from './config';
import { createDaprLock } from './data-access/dapr-lock';
import { createSequenceRepository, sequenceIndexes } from './data-access/sequence-repository';
import { createSequenceUseCases } from './domain/sequence-use-cases';
import { sequenceRoutes } from './entry-points/api/routes';

startService({
  configSchema: sequenceConfigSchema,
  indexes: sequenceIndexes,
  routes: ({ config, database, revisions, logger }) =>
    sequenceRoutes(
      createSequenceUseCases(
        createSequenceRepository(database.db, revisions),
        createDaprLock({
          daprHost: config.DAPR_HOST, daprHttpPort: config.DAPR_HTTP_PORT, daprApiToken: config.DAPR_API_TOKEN,
          storeName: config.LOCK_STORE, expirySeconds: config.LOCK_EXPIRY_SECONDS, waitMs: config.LOCK_WAIT_MS, logger,
        }),
        {
          defaultBlockSize: config.SEQUENCE_DEFAULT_BLOCK_SIZE, maxBlockSize: config.SEQUENCE_MAX_BLOCK_SIZE,
          blockGrowth: config.SEQUENCE_BLOCK_GROWTH, blockTargetMs: config.SEQUENCE_BLOCK_TARGET_MS,
          prefetchAt: config.SEQUENCE_PREFETCH_AT, settingsTtlMs: config.SEQUENCE_SETTINGS_TTL_MS, logger,
        },
      ),
      { maxCount: config.SEQUENCE_MAX_COUNT, maxBlockSize: config.SEQUENCE_MAX_BLOCK_SIZE },
    ),
}).catch(reportStartupFailure);

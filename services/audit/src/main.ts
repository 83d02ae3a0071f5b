import { readFileSync } from 'node:fs';
import { reportStartupFailure, startService } from '@mercato/platform';
import { auditConfigSchema } from './config';
import { auditEventIndexes, createAuditRepository, eventOf } from './data-access/audit-repository';
import { chainIndexes, createChainStore } from './data-access/chain-store';
import { createChainReader } from './data-access/chain-verification';
import { createSchemaRegistry } from './data-access/schema-registry';
import type { AuditEvent } from './domain/audit-event-schema';
import { createAuditUseCases } from './domain/audit-use-cases';
import { createBatchWriter } from './domain/batch-writer';
import { createCheckpointSigner, createCheckpointVerifier, publicKeyOf } from './domain/checkpoint-signing';
import { auditRoutes } from './entry-points/api/routes';
import { subscribeToEvents } from './entry-points/events/audit-subscription';

startService({
  configSchema: auditConfigSchema,
  indexes: { ...auditEventIndexes, ...chainIndexes },
  routes: ({ config, database, revisions, logger, shutdown }) => {
    const signingKey = readFileSync(config.AUDIT_CHECKPOINT_KEY_FILE, 'utf8');
    const oldKeys = (config.AUDIT_CHECKPOINT_OLD_PUBLIC_KEYS ?? '').split(',').filter(Boolean).map((file) => readFileSync(file.trim(), 'utf8'));
    const repository = createAuditRepository(database.db);
    const chain = createChainStore({
      db: database.db, events: repository, owner: config.POD_NAME, signer: createCheckpointSigner(signingKey),
      leaseMs: config.AUDIT_CHAIN_LEASE_MS, checkpointIntervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS, revisions, logger,
    });
    const writer = createBatchWriter<AuditEvent>({
      write: (events) => chain.writeBatch(events),
      maxBatch: config.AUDIT_WRITE_BATCH, maxAgeMs: config.AUDIT_WRITE_MAX_AGE_MS, capacity: config.AUDIT_BUFFER_EVENTS,
    });
    const limits = { maxDataBytes: config.AUDIT_MAX_DATA_BYTES, maxBatchEvents: config.AUDIT_MAX_BATCH_EVENTS };
    const useCases = createAuditUseCases({
      store: {
        findById: async (id) => {
          const doc = await repository.findById(id);
          return doc ? eventOf(doc) : undefined;
        },
        find: async (query, after, limit) => (await repository.find(query, after, limit)).map(eventOf),
        count: (query) => repository.count(query),
      },
      writer,
      schemas: createSchemaRegistry(database.db, config.AUDIT_SCHEMA_CACHE_MS),
      chains: createChainReader(database.db, createCheckpointVerifier([publicKeyOf(signingKey), ...oldKeys])),
      limits,
      serviceName: config.SERVICE_NAME,
      logger,
    });
    let subscription: ReturnType<typeof subscribeToEvents> | undefined;
    return {
      router: auditRoutes(useCases, limits),
      // Ready once this replica holds a chain: before that nothing could be made durable.
      warmUp: async () => {
        await chain.start(shutdown);
        subscription = subscribeToEvents(useCases, {
          daprHost: config.DAPR_HOST, daprGrpcPort: config.DAPR_GRPC_PORT, daprApiToken: config.DAPR_API_TOKEN,
          pubsubName: config.AUDIT_PUBSUB, topic: config.EVENTS_TOPIC, maxInFlight: config.AUDIT_MAX_IN_FLIGHT, logger,
        });
        await subscription.ready;
      },
      stop: async () => {
        subscription?.close();
        await writer.close();
        await chain.stop();
      },
    };
  },
}).catch(reportStartupFailure);

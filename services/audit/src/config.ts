import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

const count = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const auditConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('audit'),
  MONGODB_DATABASE: z.string().default('audit'),
  /** A batch of 500 events with data near the limit is about 4 MB of JSON. */
  BODY_LIMIT: z.string().default('4mb'),
  /** The sidecar's gRPC port: events arrive over a streaming subscription on it. */
  DAPR_GRPC_PORT: z.coerce.number().int().min(1).max(65535),
  /** Pub/sub component the audit service reads the events topic through (components/audit-events.yaml). */
  AUDIT_PUBSUB: z.string().default('audit-events'),
  /** Events from the topic in the handler at once; the component's `concurrency` must be at least as large. */
  AUDIT_MAX_IN_FLIGHT: count(1, 10_000, 1000),
  /** Largest `data` of one event, in bytes of JSON. */
  AUDIT_MAX_DATA_BYTES: count(256, 1_000_000, 8192),
  /** Most events in one POST /audit/events. */
  AUDIT_MAX_BATCH_EVENTS: count(1, 5000, 500),
  /** Events written in one insertMany. */
  AUDIT_WRITE_BATCH: count(1, 5000, 500),
  /** The longest an event waits for its batch to fill before it is written anyway. */
  AUDIT_WRITE_MAX_AGE_MS: count(1, 10_000, 20),
  /** Events held at once; beyond it producers are pushed back (RETRY to the broker, 503 with Retry-After over HTTP). */
  AUDIT_BUFFER_EVENTS: count(1, 1_000_000, 5000),
  /**
   * Ed25519 private key (PKCS#8 PEM) that signs the checkpoints: a file mounted from a Secret, never in the database,
   * so someone who can rewrite the database cannot re-sign a rewritten chain. The devstack creates one per data folder.
   */
  AUDIT_CHECKPOINT_KEY_FILE: z.string().min(1),
  /** Public keys (PEM files, comma-separated) of earlier signing keys, so checkpoints signed before a rotation verify. */
  AUDIT_CHECKPOINT_OLD_PUBLIC_KEYS: z.string().optional(),
  /** How often the chain's holder signs a checkpoint when the chain grew. */
  AUDIT_CHECKPOINT_INTERVAL_MS: count(100, 3_600_000, 5000),
  /** A chain's lease term; renewed every third of it. A replica gone this long leaves its chain to another. */
  AUDIT_CHAIN_LEASE_MS: count(1000, 600_000, 30_000),
  /** How long a replica keeps a registered schema before reading it again (its delay for a new registration). */
  AUDIT_SCHEMA_CACHE_MS: count(0, 600_000, 5000),
  /** The replica's own name (a pod's name in a cluster): the owner of its chain's lease. */
  POD_NAME: z.string().min(1).default('audit-local'),
});

export type AuditConfig = z.output<typeof auditConfigSchema>;

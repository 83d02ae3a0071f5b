import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

export const productsConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('products'),
  MONGODB_DATABASE: z.string().default('products'),
  /** The catalog's one currency (ISO 4217); a product priced in another is refused with 422. */
  CATALOG_CURRENCY: z.string().regex(/^[A-Z]{3}$/).default('USD'),
  /** Largest page a search may ask for. */
  MAX_PAGE_SIZE: z.coerce.number().int().min(1).max(500).default(100),
  /** The sidecar's gRPC port: events arrive over a streaming subscription on it. */
  DAPR_GRPC_PORT: z.coerce.number().int().min(1).max(65535),
  /** The app id of the categories service, called to check every category a product names. */
  CATEGORIES_APP_ID: z.string().default('categories'),
  /** How long a product detail lives in the shared cache (L2) without being read again. */
  CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** Product details this replica keeps in memory (L1), most recently used first; 0 turns L1 off. */
  CACHE_LOCAL_ENTRIES: z.coerce.number().int().min(0).default(10_000),
  /** The longest an L1 copy is served without a newer event: the bound on a missed event's staleness. */
  CACHE_LOCAL_TTL_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * The replica's own name (a pod's name in a cluster, the devstack's replica name locally). Its sidecar reads the
   * same POD_NAME, so the `catalog-index` pub/sub component gives this replica a consumer group of its own.
   */
  POD_NAME: z.string().min(1).default('products-local'),
  /** Pub/sub component whose consumer group is per replica (components/catalog-index.yaml). */
  INDEX_PUBSUB: z.string().default('catalog-index'),
  /** The consumer-group prefix that component uses before the pod name. */
  INDEX_GROUP_PREFIX: z.string().default('catalog-index-'),
  /**
   * The Redis that backs the events stream, for the two things Dapr's API cannot do: start this replica's consumer
   * group at its start-up snapshot, and remove the groups of replicas that are gone. Without it the group starts at
   * the stream's beginning (every event replayed, ignored by version) and nothing is cleaned up.
   */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  /** A consumer group whose consumers have all been idle this long belongs to a replica that is gone. */
  INDEX_GROUP_IDLE_MS: z.coerce.number().int().min(1000).default(10 * 60_000),
});

export type ProductsConfig = z.output<typeof productsConfigSchema>;

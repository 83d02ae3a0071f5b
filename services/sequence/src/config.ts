import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

const positiveInt = () => z.coerce.number().int().positive();

export const sequenceConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('sequence'),
  MONGODB_DATABASE: z.string().default('sequence'),
  /** Most values one `next` call may ask for (`?count=`). */
  SEQUENCE_MAX_COUNT: positiveInt().max(10_000).default(1000),
  /** Block size of a sequence created without one. */
  SEQUENCE_DEFAULT_BLOCK_SIZE: positiveInt().default(1000),
  /** Largest block a sequence may be configured with, and the most an adaptive block grows to. */
  SEQUENCE_MAX_BLOCK_SIZE: positiveInt().default(100_000),
  /** A block grows up to this many times its configured size when blocks go fast. */
  SEQUENCE_BLOCK_GROWTH: positiveInt().max(1024).default(16),
  /** A block used up faster than this doubles the next one; one that lasts four times longer halves it. */
  SEQUENCE_BLOCK_TARGET_MS: positiveInt().default(10_000),
  /** Share of the current block used when the next one is reserved in the background (Leaf's double buffer). */
  SEQUENCE_PREFETCH_AT: z.coerce.number().min(0.05).max(0.9).default(0.15),
  /** How long a replica trusts its copy of a sequence's settings (mode, block size) before reading them again. */
  SEQUENCE_SETTINGS_TTL_MS: positiveInt().default(1000),
  /** The Dapr lock component (lock.redis locally). */
  LOCK_STORE: z.string().default('lockstore'),
  /** A lock a crashed replica held frees itself after this long. */
  LOCK_EXPIRY_SECONDS: positiveInt().max(60).default(5),
  /** How long a reservation waits for another replica's lock before it answers 503. */
  LOCK_WAIT_MS: positiveInt().default(6000),
  /**
   * Longer than the platform's default and than REVISION_CLAIM_STALE_MS, so a reservation that meets the claim of a
   * replica killed mid-write waits until that claim is stale and rolled forward, instead of failing first.
   */
  REVISION_RETRY_BUDGET_MS: z.coerce.number().int().nonnegative().default(8000),
});

export type SequenceConfig = z.output<typeof sequenceConfigSchema>;

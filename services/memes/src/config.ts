import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

export const memesConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('memes'),
  MONGODB_DATABASE: z.string().default('memes'),
  /** Searches a person without `premium` may make per minute (counted on their UserActivity actor, exactly). */
  MEMES_FREE_SEARCHES_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(30),
  /** Searches a `premium` person may make per minute. */
  MEMES_PREMIUM_SEARCHES_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /**
   * Whether a search takes from the quota first (one actor call on the request path). `off` exists to measure what
   * that call costs (`npm run bench -- memes`); a platform serving people keeps it `on`: the paid tier is sold on it.
   */
  MEMES_SEARCH_QUOTA: z.enum(['on', 'off']).default('on'),
  /** How often a replica picks up memes other replicas created (its index is in memory). */
  MEMES_REFRESH_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
  /** Generated memes mixed into a premium person's search page. */
  MEMES_GENERATED_PER_PAGE: z.coerce.number().int().min(0).max(20).default(2),
  /** Seed of the caption model, so generated captions are reproducible. */
  MEMES_GENERATOR_SEED: z.coerce.number().int().default(20261122),
  /** Most memes one import call takes. */
  MEMES_IMPORT_MAX: z.coerce.number().int().min(1).max(10_000).default(1000),
  /** The corpus the caption model is built from at start-up (the image ships it). */
  MEMES_CORPUS_FILE: z.string().default('demo/memes/memegenerator-loc-sample.jsonl'),
  BODY_LIMIT: z.string().default('2mb'),
});

export type MemesConfig = z.output<typeof memesConfigSchema>;

import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

export const categoriesConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('categories'),
  MONGODB_DATABASE: z.string().default('categories'),
  /** Largest page a list request may ask for. */
  MAX_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
  /** Lifetime of the cached category tree in the shared cache (the Dapr state store `cache`). */
  TREE_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** Lifetime of the cached tree in each replica's memory; 0 turns that level off. Safe at any value: entries never change. */
  TREE_CACHE_LOCAL_TTL_MS: z.coerce.number().int().min(0).default(60_000),
});

export type CategoriesConfig = z.output<typeof categoriesConfigSchema>;

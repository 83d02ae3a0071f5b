import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

export const categoriesConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('categories'),
  MONGODB_DATABASE: z.string().default('categories'),
  /** Largest page a list request may ask for. */
  MAX_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
});

export type CategoriesConfig = z.output<typeof categoriesConfigSchema>;

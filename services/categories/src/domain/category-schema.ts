import { z } from 'zod';

/** Lower-case words joined by single hyphens: stable in URLs and unique across the whole tree. */
export const slugSchema = z
  .string()
  .min(1)
  .max(80)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case letters, digits and single hyphens, e.g. "home-decoration"');

const categoryId = z.uuid('must be a category id (UUID)');
const name = z.string().trim().min(1).max(120);
const description = z.string().trim().max(2000);

export const newCategorySchema = z.strictObject({
  name,
  slug: slugSchema,
  parentId: categoryId.nullable().default(null),
  description: description.default(''),
});
export type NewCategory = z.output<typeof newCategorySchema>;

export const categoryChangesSchema = z
  .strictObject({
    name: name.optional(),
    slug: slugSchema.optional(),
    parentId: categoryId.nullable().optional(),
    description: description.optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, 'name at least one field to change');
export type CategoryChanges = z.output<typeof categoryChangesSchema>;

export const categoryQuerySchema = z.strictObject({
  /** A parent id, or `root` for the top level. */
  parent: z.union([z.literal('root'), categoryId]).optional(),
  /** Case-insensitive text in name or slug. */
  q: z.string().trim().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).optional(),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});
export type CategoryQuery = z.output<typeof categoryQuerySchema>;

/** Reads accept an id or a slug; writes take the id, which never changes. */
export const categoryRefSchema = z.strictObject({ id: z.union([categoryId, slugSchema]) });
export const categoryIdSchema = z.strictObject({ id: categoryId });

export const categorySchema = z.object({
  id: categoryId,
  name: z.string(),
  slug: z.string(),
  parentId: categoryId.nullable(),
  ancestors: z.array(categoryId).describe('Ids from the root down to the parent: subtree queries are one equality match'),
  description: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Category = z.output<typeof categorySchema>;

export const categoryPageSchema = z.object({
  items: z.array(categorySchema),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type CategoryPage = z.output<typeof categoryPageSchema>;

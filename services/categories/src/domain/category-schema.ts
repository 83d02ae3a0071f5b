import { freeText, pageQueryShape, pageSchema, type PageLimits } from '@mercato/platform';
import { z } from 'zod';

/** Lower-case words joined by single hyphens: stable in URLs and unique across the whole tree. */
export const slugSchema = z
  .string()
  .min(1)
  .max(80)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case letters, digits and single hyphens, e.g. "home-decoration"');

const categoryId = z.uuid('must be a category id (UUID)');
const name = freeText(120, { blank: false });
const description = freeText(2000, { blank: true });

/**
 * How a path or query names a category: its id or its slug, in any case (ids and slugs are stored lower-case, and a
 * UUID is a valid slug pattern too, so one pattern covers both).
 */
export const categoryRefSchema = z
  .string()
  .max(80)
  .regex(/^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/, 'must be a category id or slug')
  .toLowerCase();

export const newCategorySchema = z.strictObject({
  name,
  slug: slugSchema,
  parentId: categoryId.nullable().default(null),
  description: description.default(''),
});
export type NewCategory = z.output<typeof newCategorySchema>;

const changeableFields = ['name', 'slug', 'parentId', 'description'] as const;

export const categoryChangesSchema = z
  .strictObject({
    name: name.optional(),
    slug: slugSchema.optional(),
    parentId: categoryId.nullable().optional(),
    description: description.optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, `send at least one of the fields ${changeableFields.join(', ')}`)
  // The refinement above in the document's words, so clients and the fuzzer see the same rule the route applies.
  .meta({ minProperties: 1 });
export type CategoryChanges = z.output<typeof categoryChangesSchema>;

/** Page sizes of the category list; the maximum is the service's `MAX_PAGE_SIZE`. */
export const categoryPageLimits = (maxLimit: number): PageLimits => ({ defaultLimit: Math.min(50, maxLimit), maxLimit });

/** Deepest level a query may name; far below what a real catalog has, and it keeps `depth` a bounded number. */
export const maxTreeDepth = 64;

/**
 * The list's query, sorted by slug (unique, so it is the keyset the cursor names). With `tree=true` the same path
 * answers the nested tree instead of a page; the paging fields then do not apply (see the use case).
 */
export function categoryQuerySchema(limits: PageLimits) {
  return z.strictObject({
    parent: categoryRefSchema.meta({ description: '`root` for the top level, or the id or slug of the parent' }).optional(),
    q: freeText(100, { blank: false, inUrl: true }).meta({ description: 'Case-insensitive text in name or slug (not with `tree=true`)' }).optional(),
    tree: z
      .enum(['true', 'false'])
      .optional()
      .meta({ description: 'With `true`, the nested tree below `parent` (the whole tree without it), each node\'s children sorted by slug; not paged, so `cursor`, `total` and `q` are refused and `limit` is ignored' }),
    depth: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(0, 'must be at least 0')
      .max(maxTreeDepth, `must be at most ${maxTreeDepth}`)
      .optional()
      .meta({ description: `With \`tree=true\`: levels kept below the top level (0 = the top level only). Without it: only categories that many levels below a root (0 = roots).` }),
    ...pageQueryShape(limits),
  });
}
export type CategoryQuery = z.output<ReturnType<typeof categoryQuerySchema>>;

/** Every route that names one category takes its id or its slug. */
export const categoryPathSchema = z.strictObject({
  id: categoryRefSchema.meta({ description: 'The category id or slug (any case)' }),
});

export const categorySchema = z.object({
  id: categoryId,
  name: z.string(),
  slug: z.string(),
  parentId: categoryId.nullable(),
  ancestors: z.array(categoryId).describe('Ids from the root down to the parent: subtree queries are one equality match'),
  description: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int().min(1).describe('Bumped by every change to the category; the ETag is this number in quotes'),
});
export type Category = z.output<typeof categorySchema>;

export const categoryPageSchema = pageSchema(categorySchema);
export type CategoryPage = z.output<typeof categoryPageSchema>;

/** A category in the nested tree: its children, sorted by slug, as deep as the query's `depth` keeps them. */
export type CategoryNode = Category & { childCount: number; children: CategoryNode[] };
export const categoryNodeSchema: z.ZodType<CategoryNode> = categorySchema
  .extend({
    childCount: z.number().int().min(0).describe('How many children the category has, also where `depth` cut them off'),
    get children() {
      return z.array(categoryNodeSchema);
    },
  })
  .meta({ id: 'CategoryNode' });

export const categoryTreeSchema = z.object({
  items: z.array(categoryNodeSchema).describe('The top level: the roots, or the children of `parent`'),
});
export type CategoryTree = z.output<typeof categoryTreeSchema>;

/** What the list path answers: a page, or with `tree=true` the tree. */
export const categoryListSchema = z.union([categoryPageSchema, categoryTreeSchema]);

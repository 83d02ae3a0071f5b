import { AppError, decodeCursor, encodeCursor, noControlCharacters, pageCursorFormat, type CursorValue, type FieldIssue } from '@mercato/platform';
import { z } from 'zod';
import { attributeNameSchema, productSchema, productStatuses } from './product-schema';
import { productSorts, type ProductSearchQuery, type ProductSort } from './product-search';

/**
 * A comma-separated list of `item`s; `itemPattern` (the item's own pattern, unanchored) also goes into the document,
 * so a client (and the contract fuzzer) knows the whole list's form, not only that it is a string.
 */
const commaList = <T extends z.ZodType>(item: T, max: number, itemPattern: string) =>
  z
    .string()
    .max(2000)
    .meta({ pattern: `^(?:${itemPattern})(?:,(?:${itemPattern})){0,${max - 1}}$` })
    .transform((value, context) => {
      const parts = value.split(',').map((part) => part.trim());
      const parsed: Array<z.output<T>> = [];
      for (const part of parts) {
        const result = item.safeParse(part);
        if (!result.success) {
          context.addIssue({ code: 'custom', message: `"${part}": ${result.error.issues[0]?.message ?? 'is not valid'}` });
          return z.NEVER;
        }
        parsed.push(result.data);
      }
      if (parsed.length > max) {
        context.addIssue({ code: 'custom', message: `at most ${max} values` });
        return z.NEVER;
      }
      return parsed;
    });

/**
 * A tag to filter by: the characters and length of a tag. A well-formed tag no product carries (`a--b`) simply
 * matches nothing, so the document can state the whole list's form as one pattern.
 */
const tagFilter = z.string().regex(/^[a-z0-9-]{1,40}$/, 'lower-case letters, digits and hyphens, at most 40');

const amount = z.coerce
  .number({ error: 'must be a whole number of minor units' })
  .int('must be a whole number of minor units')
  .min(0)
  .max(1_000_000_000_00);

const booleanText = z.enum(['true', 'false']);

/** Default direction per sort: best match, cheapest, A to Z, newest first. */
const defaultOrder: Record<ProductSort, 'asc' | 'desc'> = { relevance: 'desc', price: 'asc', name: 'asc', newest: 'desc' };

/** The search's fixed parameters; `attr.<name>` parameters are read beside them (see `parseSearchQuery`). */
export function productSearchQuerySchema(maxLimit: number) {
  const defaultLimit = Math.min(20, maxLimit);
  return z
    .strictObject({
      q: z.string().max(200).regex(noControlCharacters, 'must not contain control characters').optional()
        .meta({ description: 'Words to find in name, description, tags and SKU; typo-tolerant; relevance order by default' }),
      category: z.uuid('must be a category id (UUID)').optional().meta({ description: 'Only products filed under this category' }),
      subtree: booleanText.optional().meta({ description: 'With `true`, also products anywhere below `category`' }),
      price_min: amount.optional().meta({ description: 'Lowest price, inclusive, in minor units' }),
      price_max: amount.optional().meta({ description: 'Highest price, inclusive, in minor units' }),
      tags: commaList(tagFilter, 20, '[a-z0-9-]{1,40}').optional().meta({ description: 'Comma-separated tags; products with any of them' }),
      in_stock: booleanText.optional().meta({ description: '`true`: stock above 0; `false`: out of stock' }),
      status: commaList(z.enum(productStatuses), 3, productStatuses.join('|')).optional()
        .meta({ description: 'Comma-separated statuses (default `active`); editors and admins only see drafts and archived products' }),
      sort: z.enum(productSorts).optional().meta({ description: 'Default `relevance` with `q`, else `newest`' }),
      order: z.enum(['asc', 'desc']).optional().meta({ description: 'Default: relevance desc, price asc, name asc, newest desc' }),
      cursor: z.string().max(512).optional().meta({ format: pageCursorFormat, description: 'Opaque: the `nextCursor` of the previous page' }),
      limit: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1')
        .max(maxLimit, `must be at most ${maxLimit}`).default(defaultLimit)
        .meta({ description: `Page size, 1 to ${maxLimit} (default ${defaultLimit}); larger is refused, not cut.` }),
    })
    .refine((query) => query.price_min === undefined || query.price_max === undefined || query.price_min <= query.price_max, {
      message: 'must not be above price_max',
      path: ['price_min'],
    })
    .refine((query) => query.subtree === undefined || query.category !== undefined, { message: 'needs `category`', path: ['subtree'] });
}

const attributeValues = commaList(z.string().min(1, 'must not be empty').max(200).regex(noControlCharacters, 'must not contain control characters'), 20, '[^,]+');

/**
 * Reads the whole query: `attr.<name>=v1,v2` parameters (any number, one per attribute) beside the fixed ones. A
 * cursor is bound to its sort and order, so one taken from another ordering is refused instead of starting elsewhere.
 * The schema is built once, with the parser: zod 4 compiles a schema's fast path on first use, and building it per
 * search was a tenth of a search's CPU in the products app (≈ 517 µs against ≈ 5 µs; docs/runtime.md).
 */
export function searchQueryParser(maxLimit: number): (raw: Record<string, unknown>) => ProductSearchQuery {
  const schema = productSearchQuerySchema(maxLimit);
  return (raw) => parseSearchQuery(raw, schema);
}

function parseSearchQuery(raw: Record<string, unknown>, schema: ReturnType<typeof productSearchQuerySchema>): ProductSearchQuery {
  const fixed: Record<string, unknown> = {};
  const attributes: Record<string, string[]> = {};
  const issues: FieldIssue[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith('attr.')) {
      fixed[key] = value;
      continue;
    }
    const name = key.slice('attr.'.length);
    const path = `query.${key}`;
    const nameCheck = attributeNameSchema.safeParse(name);
    if (!nameCheck.success) {
      issues.push({ path, message: name ? `"${name}" is not an attribute name: ${nameCheck.error.issues[0]?.message}` : 'names no attribute: write attr.<name>=<values>' });
      continue;
    }
    const values = attributeValues.safeParse(value);
    if (typeof value !== 'string' || !values.success) {
      issues.push({ path, message: typeof value !== 'string' ? 'give the attribute once, with comma-separated values' : (values.error?.issues[0]?.message ?? 'is not valid') });
      continue;
    }
    attributes[name] = values.data;
  }
  if (Object.keys(attributes).length > 10) issues.push({ path: 'query', message: 'at most 10 attr.<name> filters' });

  const parsed = schema.safeParse(fixed);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') issue.keys.forEach((key) => issues.push({ path: `query.${key}`, message: 'is not a parameter of this search' }));
      else issues.push({ path: ['query', ...issue.path.map(String)].join('.'), message: issue.message });
    }
  }
  if (issues.length || !parsed.success) throw new AppError('validation', { detail: 'Invalid query', issues });

  const query = parsed.data;
  const sort: ProductSort = query.sort ?? (query.q ? 'relevance' : 'newest');
  const order = query.order ?? defaultOrder[sort];
  const search: ProductSearchQuery = {
    attributes,
    tags: query.tags ?? [],
    statuses: query.status ?? ['active'],
    sort,
    order,
    limit: query.limit,
  };
  if (query.q?.trim()) search.q = query.q.trim();
  if (query.category) search.category = { id: query.category, subtree: query.subtree === 'true' };
  if (query.price_min !== undefined) search.priceMin = query.price_min;
  if (query.price_max !== undefined) search.priceMax = query.price_max;
  if (query.in_stock) search.inStock = query.in_stock === 'true';
  if (query.cursor) search.after = afterOf(query.cursor, `${sort}:${order}`);
  return search;
}

const wrongOrdering = () =>
  new AppError('validation', {
    code: 'invalid-cursor',
    detail: 'The cursor belongs to another sort or order; start again without a cursor',
    issues: [{ path: 'query.cursor', message: 'was issued for another sort or order' }],
  });

function afterOf(cursor: string, ordering: string): CursorValue[] {
  const [tag, ...after] = decodeCursor(cursor, 3);
  if (tag !== ordering) throw wrongOrdering();
  return after;
}

/** The cursor for the page after `next` (the index's keyset position), bound to the ordering it was made in. */
export const cursorOf = (next: readonly CursorValue[] | undefined, query: ProductSearchQuery): string | null =>
  next ? encodeCursor([`${query.sort}:${query.order}`, ...next]) : null;

const facetsSchema = z.object({
  categories: z.record(z.string(), z.number().int()).describe('Category id → products filed directly under it'),
  attributes: z.record(z.string(), z.record(z.string(), z.number().int())).describe('Attribute → value → products'),
  price: z.array(z.object({ min: z.number().int(), max: z.number().int().optional(), count: z.number().int() })).describe('Price buckets in minor units'),
});

export const productSearchPageSchema = z.object({
  items: z.array(productSchema),
  total: z.number().int().min(0).describe('Every product matching the filter'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  facets: facetsSchema.describe('Counts for the current filter; each facet counted with its own filter removed'),
});

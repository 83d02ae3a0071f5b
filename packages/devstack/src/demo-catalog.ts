import { readFileSync } from 'node:fs';
import path from 'node:path';
import { problemTypeBase } from '@mercato/platform';
import { z } from 'zod';
import { repoRoot } from './paths';

/**
 * The demo catalog `npm start` loads: DummyJSON's 194 products in 24 categories (MIT; demo/catalog/README.md says what
 * is mapped and what is dropped). It goes in through the public API, as any client's import would, so it passes the
 * same validation, category checks, events and search indexing as real data; and it is idempotent: a category whose
 * slug is taken and a product whose SKU is taken are left as they are.
 */
export const demoCatalogFile = path.join(repoRoot, 'demo', 'catalog', 'dummyjson-products.json');

/** The catalog's one currency; DummyJSON's prices are US dollars. */
const currency = 'USD';

/** The fields the loader reads; the rest of a DummyJSON product (reviews, images, meta dates…) is ignored. */
const dummyJsonProductSchema = z.object({
  title: z.string(),
  description: z.string(),
  category: z.string(),
  price: z.number().nonnegative(),
  discountPercentage: z.number(),
  rating: z.number(),
  stock: z.number().int().nonnegative(),
  tags: z.array(z.string()),
  brand: z.string().optional(),
  sku: z.string(),
  weight: z.number(),
  dimensions: z.object({ width: z.number(), height: z.number(), depth: z.number() }),
  warrantyInformation: z.string(),
  shippingInformation: z.string(),
  returnPolicy: z.string(),
  minimumOrderQuantity: z.number().int(),
  meta: z.object({ barcode: z.string() }),
});
export type DummyJsonProduct = z.output<typeof dummyJsonProductSchema>;

export function readDemoCatalog(file = demoCatalogFile): DummyJsonProduct[] {
  const parsed = z.array(dummyJsonProductSchema).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file} is not a DummyJSON product list: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

export interface CategoryRequest {
  name: string;
  slug: string;
}

export type AttributeValue = string | number | boolean;

export interface ProductRequest {
  sku: string;
  name: string;
  description: string;
  categoryIds: string[];
  price: { amount: number; currency: string };
  attributes: Record<string, AttributeValue>;
  tags: string[];
  stock: number;
  status: 'active';
}

/** `home-decoration` → `Home Decoration`. */
export function titleCase(slug: string): string {
  return slug
    .split('-')
    .filter((word) => word.length > 0)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(' ');
}

/** DummyJSON's category names are already slugs (`womens-jewellery`), so they keep them and get a readable name. */
export function categoryRequestOf(slug: string): CategoryRequest {
  return { name: titleCase(slug), slug };
}

/** Dollars to whole cents; rounding, because 0.29 × 100 is 28.999999999999996 in binary floating point. */
export function centsOf(dollars: number): number {
  return Math.round(dollars * 100);
}

// The products API's rules (services/products/src/domain/product-schema.ts), restated because the devstack does not
// import a service: what breaks them would be refused with a 400 for the whole product.
const tagPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const maxTagLength = 40;
const maxTags = 30;
const attributeNamePattern = /^[a-z][a-z0-9_]*$/;
const maxAttributes = 30;
const maxAttributeText = 200;
const controlCharacters = /[\u0000-\u001f\u007f]/;

/**
 * A free-form tag in the API's form: `Men's T-Shirts` → `mens-t-shirts`, `pet supplies` → `pet-supplies`, accents
 * dropped, cut to the maximum length; `undefined` when nothing usable is left.
 */
export function normaliseTag(raw: string): string | undefined {
  const tag = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '') // an apostrophe joins its word ("men's" → "mens") instead of splitting it
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxTagLength)
    .replace(/-+$/, '');
  return tagPattern.test(tag) ? tag : undefined;
}

/** Normalised, without the repeats normalising can make (`Home Decor` and `home-decor`), at most the API's maximum. */
export function tagsOf(raw: readonly string[]): string[] {
  const tags = new Set<string>();
  for (const tag of raw.map(normaliseTag)) if (tag) tags.add(tag);
  return [...tags].slice(0, maxTags);
}

function fitsAsAttribute(name: string, value: AttributeValue | undefined): value is AttributeValue {
  if (!attributeNamePattern.test(name) || value === undefined) return false;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'boolean') return true;
  // A comma would make the value unfilterable (`attr.brand=a,b` means a or b), so such a value is dropped, not altered.
  return !value.includes(',') && !controlCharacters.test(value) && [...value].length <= maxAttributeText && value.trim() !== '';
}

/**
 * DummyJSON's descriptive fields as attributes, each kept only where it fits the API's rules (a value with a comma,
 * for one, is left out rather than rewritten). `availabilityStatus` is not among them: it is derived from the stock,
 * which the product carries, and would go stale with the first stock change.
 */
export function attributesOf(item: DummyJsonProduct): Record<string, AttributeValue> {
  const candidates: Record<string, AttributeValue | undefined> = {
    brand: item.brand,
    rating: item.rating,
    discount_percentage: item.discountPercentage,
    weight: item.weight,
    width: item.dimensions.width,
    height: item.dimensions.height,
    depth: item.dimensions.depth,
    warranty: item.warrantyInformation,
    shipping: item.shippingInformation,
    return_policy: item.returnPolicy,
    minimum_order_quantity: item.minimumOrderQuantity,
    barcode: item.meta.barcode,
  };
  const attributes: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(candidates)) {
    if (fitsAsAttribute(name, value) && Object.keys(attributes).length < maxAttributes) attributes[name] = value;
  }
  return attributes;
}

/** One DummyJSON product as the body of `POST /api/products`, filed under its category (by the category's id). */
export function productRequestOf(item: DummyJsonProduct, categoryId: string): ProductRequest {
  return {
    sku: item.sku,
    name: item.title.trim(),
    description: item.description.trim(),
    categoryIds: [categoryId],
    price: { amount: centsOf(item.price), currency },
    attributes: attributesOf(item),
    tags: tagsOf(item.tags),
    stock: item.stock,
    status: 'active',
  };
}

/** The categories in the order the file first names them. */
export function categorySlugsOf(items: readonly DummyJsonProduct[]): string[] {
  return [...new Set(items.map((item) => item.category))];
}

export interface DemoCatalogOptions {
  /** The platform's ingress, e.g. `http://localhost:8080`. */
  ingressUrl: string;
  /** An `editor`'s access token; asked for before every request, so the caller decides when to fetch a new one. */
  token: () => Promise<string>;
  progress: (message: string) => void;
  /** Default: the copy in the repo. */
  file?: string;
  /** Requests in flight at once. Default 8: enough to keep both products replicas busy, far from the ingress's limits. */
  parallel?: number;
}

export interface LoadCount {
  created: number;
  existing: number;
}

export interface DemoCatalogSummary {
  categories: LoadCount;
  products: LoadCount;
}

/** Products loaded between two progress lines. */
const progressEvery = 50;

/**
 * Creates the demo categories and products through the ingress; what exists already (same category slug, same SKU)
 * is left as it is, so a second run creates nothing. Throws, naming the category or product, when the API refuses one
 * for any other reason.
 */
export async function loadDemoCatalog(options: DemoCatalogOptions): Promise<DemoCatalogSummary> {
  const items = readDemoCatalog(options.file);
  const parallel = options.parallel ?? 8;
  const api = apiClient(options);

  const categories: LoadCount = { created: 0, existing: 0 };
  const categoryIds = new Map<string, string>();
  await forEachInParallel(categorySlugsOf(items), parallel, async (slug) => {
    const { id, created } = await ensureCategory(api, categoryRequestOf(slug));
    categoryIds.set(slug, id);
    categories[created ? 'created' : 'existing'] += 1;
  });

  const products: LoadCount = { created: 0, existing: 0 };
  await forEachInParallel(items, parallel, async (item) => {
    const created = await ensureProduct(api, productRequestOf(item, categoryIds.get(item.category)!));
    products[created ? 'created' : 'existing'] += 1;
    const done = products.created + products.existing;
    if (done % progressEvery === 0 && done < items.length) options.progress(`demo catalog: ${done}/${items.length} products`);
  });

  options.progress(
    `demo catalog: ${products.created} created, ${products.existing} already there ` +
      `(${items.length} products; ${categories.created} of ${categoryIds.size} categories created)`,
  );
  return { categories, products };
}

/** A status and its body, parsed as JSON when it is JSON. */
export interface Answer {
  status: number;
  body: unknown;
}

type Api = (method: 'GET' | 'POST', apiPath: string, body?: unknown) => Promise<Answer>;

/** Statuses that mean "not now" (an app restarting behind the ingress, categories briefly unreachable): ask again. */
const transientStatuses = new Set([502, 503, 504]);
const maxAttempts = 6;

function apiClient(options: DemoCatalogOptions): Api {
  return async (method, apiPath, body) => {
    for (let attempt = 1; ; attempt += 1) {
      const headers: Record<string, string> = { authorization: `Bearer ${await options.token()}` };
      const init: RequestInit = { method, headers, signal: AbortSignal.timeout(30_000) };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let response: Response;
      try {
        response = await fetch(`${options.ingressUrl}${apiPath}`, init);
      } catch (error) {
        // The connection itself failed: a create that did arrive shows as "already there" on the next attempt.
        if (attempt >= maxAttempts) throw new Error(`${method} ${apiPath}: ${error instanceof Error ? error.message : String(error)}`);
        await pause(backoffMs(attempt, null));
        continue;
      }
      const text = await response.text();
      if (!transientStatuses.has(response.status) || attempt >= maxAttempts) return { status: response.status, body: jsonOrText(text) };
      await pause(backoffMs(attempt, response.headers.get('retry-after')));
    }
  };
}

/** The server's Retry-After when it gives one (capped: this runs while a person waits), else a doubling pause. */
function backoffMs(attempt: number, retryAfter: string | null): number {
  const seconds = Number(retryAfter);
  if (retryAfter !== null && Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 5) * 1000;
  return Math.min(250 * 2 ** (attempt - 1), 5000);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function jsonOrText(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

const problemSchema = z.object({
  type: z.string().optional(),
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** Whether an answer is the problem+json of this stable type (`duplicate-sku`, …). */
function isProblem(answer: Answer, code: string): boolean {
  return problemSchema.safeParse(answer.body).data?.type === problemTypeBase + code;
}

/** `422 category-not-found: The category … does not exist`, with each field the API named. */
export function describeRefusal(answer: Answer): string {
  const problem = problemSchema.safeParse(answer.body).data;
  if (!problem) return `${answer.status} ${String(answer.body ?? '').slice(0, 300)}`;
  const code = problem.type?.startsWith(problemTypeBase) ? problem.type.slice(problemTypeBase.length) : problem.type;
  const fields = (problem.errors ?? []).map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return [`${answer.status} ${code ?? ''}`.trim(), problem.detail, fields].filter(Boolean).join(': ');
}

const createdSchema = z.object({ id: z.string() });

async function ensureCategory(api: Api, category: CategoryRequest): Promise<{ id: string; created: boolean }> {
  const answer = await api('POST', '/api/categories', category);
  if (answer.status === 201) return { id: createdSchema.parse(answer.body).id, created: true };
  if (answer.status === 409 && isProblem(answer, 'duplicate-slug')) {
    const existing = await api('GET', `/api/categories/${encodeURIComponent(category.slug)}`);
    if (existing.status === 200) return { id: createdSchema.parse(existing.body).id, created: false };
    throw new Error(`The demo category "${category.slug}" exists but could not be read: ${describeRefusal(existing)}`);
  }
  throw new Error(`The categories API refused the demo category "${category.slug}": ${describeRefusal(answer)}`);
}

/** True when created, false when a product with its SKU is there already (left as it is). */
async function ensureProduct(api: Api, product: ProductRequest): Promise<boolean> {
  const answer = await api('POST', '/api/products', product);
  if (answer.status === 201) return true;
  if (answer.status === 409 && isProblem(answer, 'duplicate-sku')) return false;
  throw new Error(`The products API refused the demo product "${product.name}" (SKU ${product.sku}): ${describeRefusal(answer)}`);
}

/** Runs `work` on every item, at most `parallel` at a time; after the first failure no more start, and it is thrown. */
async function forEachInParallel<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next]!;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, items.length)) }, worker));
}

/**
 * A token source that fetches again once its token is older than `reuseMs`: the realm's access tokens live 5 minutes,
 * and a load on a slow machine may outlast one.
 */
export function reusedToken(fetchToken: () => Promise<string>, reuseMs = 3 * 60_000): () => Promise<string> {
  let current: { token: Promise<string>; fetchedAt: number } | undefined;
  return () => {
    if (!current || Date.now() - current.fetchedAt >= reuseMs) {
      const token = fetchToken();
      current = { token, fetchedAt: Date.now() };
      token.catch(() => {
        if (current?.token === token) current = undefined;
      });
    }
    return current.token;
  };
}

import { seededRandom } from '@mercato/platform';
/**
 * A deterministic catalog for the catalog benchmark: the same seed gives the same categories and products, byte for
 * byte, on every machine, so two runs search the same data. Names and descriptions are drawn from word lists, so a
 * `q` finds a predictable share of the catalog; attributes, tags, prices and stock give every filter and facet
 * something to count.
 */

/** A category as the generator plans it; the benchmark creates it through the API and learns its id. */
export interface PlannedCategory {
  /** Index path from the root, e.g. [2, 0, 1]; also what products refer to. */
  path: readonly number[];
  name: string;
  slug: string;
}

/**
 * The shape the products API returns (the repository stores it with Dates for the two timestamps). Written out here
 * because devstack does not depend on the products service; the unit test checks it against the service's schema.
 */
export interface GeneratedProduct {
  id: string;
  sku: string;
  name: string;
  description: string;
  categoryIds: string[];
  price: { amount: number; currency: string };
  attributes: Record<string, string | number | boolean>;
  tags: string[];
  stock: number;
  status: 'draft' | 'active' | 'archived';
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** 4 roots × 3 children × 3 grandchildren = 52 categories, 36 of them leaves that hold products. */
export const categoryTree = { roots: 4, children: 3, grandchildren: 3 } as const;

const rootNames = ['Electronics', 'Home', 'Outdoor', 'Fashion'];
const childNames = ['Essentials', 'Premium', 'Accessories'];
const grandchildNames = ['Compact', 'Standard', 'Large'];

export const nouns = [
  'headphones', 'speaker', 'lamp', 'kettle', 'backpack', 'jacket', 'tent', 'blender', 'keyboard', 'monitor',
  'chair', 'desk', 'watch', 'camera', 'charger', 'router', 'blanket', 'pillow', 'mug', 'bottle',
  'sneakers', 'boots', 'scarf', 'gloves', 'stove', 'lantern', 'hammock', 'drone', 'tablet', 'mouse',
  'toaster', 'vacuum', 'heater', 'fan', 'umbrella', 'wallet', 'sunglasses', 'belt', 'grill', 'cooler',
];
const adjectives = [
  'wireless', 'portable', 'compact', 'ergonomic', 'waterproof', 'lightweight', 'rugged', 'classic', 'smart', 'foldable',
  'insulated', 'rechargeable', 'adjustable', 'premium', 'vintage', 'modern', 'quiet', 'durable', 'slim', 'heated',
];
const descriptionWords = [
  'designed', 'for', 'everyday', 'use', 'with', 'a', 'soft', 'finish', 'and', 'long', 'lasting', 'battery', 'easy',
  'to', 'clean', 'built', 'from', 'recycled', 'materials', 'ideal', 'travel', 'home', 'office', 'camping', 'gift',
  'warranty', 'included', 'fits', 'most', 'bags', 'simple', 'setup', 'fast', 'shipping', 'tested', 'outdoors',
];
export const brands = [
  'Acme', 'Nordlys', 'Kestrel', 'Vantage', 'Orbit', 'Solace', 'Tundra', 'Lumen', 'Harbor', 'Pioneer',
  'Zephyr', 'Cobalt', 'Meridian', 'Summit', 'Atlas', 'Brio', 'Cascade', 'Ember', 'Fjord', 'Granite',
];
export const colors = ['black', 'white', 'grey', 'red', 'blue', 'green', 'yellow', 'orange', 'purple', 'brown', 'pink', 'silver'];
const sizes = ['xs', 's', 'm', 'l', 'xl', 'xxl'];
const materials = ['cotton', 'wool', 'leather', 'steel', 'aluminium', 'plastic', 'bamboo', 'glass'];
const tagWords = [
  'new', 'sale', 'bestseller', 'eco', 'gift-idea', 'limited', 'bundle', 'refurbished', 'clearance', 'exclusive',
  'wireless-charging', 'usb-c', 'bluetooth', 'kids', 'pro', 'outdoor', 'indoor', 'travel', 'winter', 'summer',
];


const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

function pickDistinct<T>(random: () => number, items: readonly T[], count: number): T[] {
  const chosen = new Set<T>();
  while (chosen.size < Math.min(count, items.length)) chosen.add(pick(random, items));
  return [...chosen];
}

/** A version-4-shaped UUID from the generator, so ids are as deterministic as everything else. */
function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** Every category, parents before their children (the order they must be created in). */
export function planCategories(): PlannedCategory[] {
  const planned: PlannedCategory[] = [];
  rootNames.slice(0, categoryTree.roots).forEach((root, r) => {
    planned.push({ path: [r], name: root, slug: `bench-${r}` });
    childNames.slice(0, categoryTree.children).forEach((child, c) => {
      planned.push({ path: [r, c], name: `${root} ${child}`, slug: `bench-${r}-${c}` });
      grandchildNames.slice(0, categoryTree.grandchildren).forEach((grandchild, g) => {
        planned.push({ path: [r, c, g], name: `${root} ${child} ${grandchild}`, slug: `bench-${r}-${c}-${g}` });
      });
    });
  });
  return planned;
}

export const isLeaf = (category: PlannedCategory): boolean => category.path.length === 3;

/** Prices spread evenly on a log scale from $5 to $2,000, so every price bucket holds products. */
const priceOf = (random: () => number): number => Math.round(500 * Math.pow(400, random()));

const catalogStart = Date.UTC(2026, 0, 1);

export interface GenerateOptions {
  count: number;
  seed: number;
  /** Ids of the leaf categories, as the categories service assigned them; products are filed under one (1 in 10: two). */
  leafCategoryIds: readonly string[];
}

/**
 * `count` products, the i-th always the same for the same seed and leaves. 94% active, 4% draft, 2% archived; one in
 * ten out of stock; each with a colour, a size, a brand, a material and a boolean, two to four tags.
 */
export function* generateProducts(options: GenerateOptions): Generator<GeneratedProduct> {
  if (options.leafCategoryIds.length === 0) throw new Error('products need at least one leaf category');
  const random = seededRandom(options.seed);
  for (let i = 0; i < options.count; i++) {
    const noun = pick(random, nouns);
    const adjective = pick(random, adjectives);
    const brand = pick(random, brands);
    const model = `${String.fromCharCode(65 + Math.floor(random() * 26))}${100 + Math.floor(random() * 900)}`;
    const words = Array.from({ length: 10 + Math.floor(random() * 11) }, () => pick(random, descriptionWords));
    // One description in four mentions another product kind, so `q` also finds products by their description.
    if (random() < 0.25) words.splice(Math.floor(random() * words.length), 0, 'pairs', 'with', 'any', pick(random, nouns));
    const categoryIds = pickDistinct(random, options.leafCategoryIds, random() < 0.1 ? 2 : 1);
    const statusRoll = random();
    const created = new Date(catalogStart + i * 60_000 + Math.floor(random() * 60_000)).toISOString();
    yield {
      id: uuidFrom(random),
      sku: `BENCH-${String(i).padStart(7, '0')}`,
      name: `${brand} ${adjective} ${noun} ${model}`,
      description: `${words.join(' ')}.`,
      categoryIds,
      price: { amount: priceOf(random), currency: 'USD' },
      attributes: {
        color: pick(random, colors),
        size: pick(random, sizes),
        brand: brand.toLowerCase(),
        material: pick(random, materials),
        refurbished: random() < 0.05,
      },
      tags: pickDistinct(random, tagWords, 2 + Math.floor(random() * 3)),
      stock: random() < 0.1 ? 0 : 1 + Math.floor(random() * 500),
      status: statusRoll < 0.94 ? 'active' : statusRoll < 0.98 ? 'draft' : 'archived',
      createdAt: created,
      updatedAt: created,
      version: 1,
    };
  }
}

/** The document the products repository writes for a product (see services/products product-repository.ts). */
export function productDocumentOf(product: GeneratedProduct): Record<string, unknown> {
  const { id, createdAt, updatedAt, ...fields } = product;
  return { _id: id, ...fields, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt), _rev: 1 };
}

/**
 * The key the products repository holds for a product's SKU (`products_skus`, see services/products sku-keys.ts): a
 * read by SKU finds the product through it, so a product stored without one is not found by its SKU.
 */
export function skuKeyDocumentOf(product: GeneratedProduct): Record<string, unknown> {
  return { _id: product.sku, productId: product.id, at: new Date(product.createdAt), _rev: 1 };
}

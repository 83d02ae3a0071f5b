import type { CursorValue } from '@mercato/platform';
import type { Product, ProductStatus } from './product-schema';

/** How results are ordered; every order but relevance is a keyset (value, id), so its cursor is stable under writes. */
export const productSorts = ['relevance', 'price', 'name', 'newest'] as const;
export type ProductSort = (typeof productSorts)[number];

/** A search as the use case hands it to the index: parsed and validated, visibility already applied. */
export interface ProductSearchQuery {
  /** Free text over name, description, tags and SKU; typo-tolerant. */
  q?: string;
  /** Only products filed under this category (directly, or anywhere below it with `subtree`). */
  category?: { id: string; subtree: boolean };
  /** Inclusive bounds in minor units. */
  priceMin?: number;
  priceMax?: number;
  /** Attribute name → accepted values as strings (OR within one attribute, AND across attributes). */
  attributes: Record<string, string[]>;
  /** Products carrying any of these tags. */
  tags: string[];
  /** true: stock > 0; false: stock = 0. */
  inStock?: boolean;
  /** The statuses the caller may see and asked for (viewers: active only). Never empty. */
  statuses: ProductStatus[];
  sort: ProductSort;
  order: 'asc' | 'desc';
  limit: number;
  /** The keyset position after which this page starts (from the cursor), as `keyOf` returned it. */
  after?: readonly CursorValue[];
}

export interface PriceBucket {
  /** Inclusive lower bound in minor units. */
  min: number;
  /** Exclusive upper bound; absent on the last bucket. */
  max?: number;
  count: number;
}

/** Counts for the current filter, each facet counted with its own filter removed (as shoppers expect). */
export interface ProductFacets {
  /** Category id → products filed directly under it. */
  categories: Record<string, number>;
  /** Attribute name → value (as a string) → products. */
  attributes: Record<string, Record<string, number>>;
  price: PriceBucket[];
}

export interface ProductSearchResult {
  items: Product[];
  total: number;
  /** The keyset position of the last item when there is a next page. */
  next?: CursorValue[];
  facets: ProductFacets;
}

/**
 * The in-process search index one replica keeps: loaded from MongoDB at start-up, then kept current from catalog
 * events. Every change names the product's version, so an event that arrives late or twice never undoes a newer one.
 */
export interface ProductSearchIndex {
  /** Adds or replaces a product unless the index already holds this version or a newer one (or its deletion). */
  upsert(product: Product): boolean;
  /** Removes a product deleted at `version`, and remembers it so an older upsert arriving later cannot revive it. */
  remove(id: string, version: number): boolean;
  /** Sets a category's ancestors (root first) and re-files every product under it (a move in the tree). */
  placeCategory(categoryId: string, ancestors: readonly string[]): void;
  /** Forgets a deleted category's place in the tree. */
  forgetCategory(categoryId: string): void;
  search(query: ProductSearchQuery): ProductSearchResult;
  /** Products currently indexed. */
  readonly size: number;
}

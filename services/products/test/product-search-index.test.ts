import os from 'node:os';
import type { Product } from '../src/domain/product-schema';
import type { ProductSearchQuery } from '../src/domain/product-search';
import { createProductSearchIndex, cursorFitsSort, priceBuckets, typoToleranceFor } from '../src/data-access/product-search-index';
import { seededRandom } from '@mercato/platform';

/** The platform's seeded generator, so every run builds the same catalog; with the two draws these tests use. */
function seededDraws(seed: number) {
  const next = seededRandom(seed);
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

const uuid = (kind: number, n: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const categoryId = (n: number) => uuid(0xca7, n);
const productId = (n: number) => uuid(0x9d, n);
const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString();

let nextProduct = 0;
function product(fields: Partial<Product> = {}): Product {
  nextProduct += 1;
  return {
    id: productId(nextProduct),
    sku: `SKU-${nextProduct}`,
    name: `Plain item ${nextProduct}`,
    description: '',
    categoryIds: [categoryId(1)],
    price: { amount: 1000, currency: 'USD' },
    attributes: {},
    tags: [],
    stock: 5,
    status: 'active',
    createdAt: day(nextProduct),
    updatedAt: day(nextProduct),
    version: 1,
    ...fields,
  };
}

function query(fields: Partial<ProductSearchQuery> = {}): ProductSearchQuery {
  return { attributes: {}, tags: [], statuses: ['active'], sort: 'relevance', order: 'desc', limit: 100, ...fields };
}

function indexOf(products: Product[]) {
  const index = createProductSearchIndex();
  for (const each of products) index.upsert(each);
  return index;
}

const namesOf = (items: Product[]) => items.map((item) => item.name);

const words = ['ultra', 'slim', 'pro', 'max', 'mini', 'smart', 'quiet', 'rapid', 'classic', 'sport', 'travel', 'home'];
const nouns = ['phone', 'laptop', 'kettle', 'chair', 'lamp', 'speaker', 'watch', 'camera', 'jacket', 'backpack', 'blender'];
const brands = ['Samsung', 'Apple', 'Sony', 'Lenovo', 'Philips', 'Bosch', 'Nike', 'Adidas', 'Dell', 'Canon'];
const colors = ['black', 'white', 'red', 'blue', 'green', 'silver', 'gold', 'grey', 'pink', 'navy', 'olive', 'beige'];
const sizes = ['xs', 's', 'm', 'l', 'xl', 'xxl'];
const tagPool = Array.from({ length: 120 }, (_, n) => `tag-${n}`);
const vocabulary = (() => {
  const random = seededDraws(7);
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'te', 'vo', 'zi', 'pa', 'do', 'fe', 'gu', 'hi', 'jo'];
  return Array.from({ length: 3000 }, () => Array.from({ length: 2 + random.int(3) }, () => random.pick(syllables)).join(''));
})();

/** A catalog shaped like a real one: brands, nouns, attributes, tags, 60 categories in a three-level tree. */
function generatedCatalog(size: number, seed: number) {
  const random = seededDraws(seed);
  const categoryCount = 60;
  const ancestors = new Map<string, string[]>();
  for (let n = 1; n <= categoryCount; n += 1) {
    if (n <= 6) ancestors.set(categoryId(n), []);
    else if (n <= 18) ancestors.set(categoryId(n), [categoryId(1 + (n % 6))]);
    else {
      const parent = 7 + (n % 12);
      ancestors.set(categoryId(n), [...(ancestors.get(categoryId(parent)) as string[]), categoryId(parent)]);
    }
  }
  const products = Array.from({ length: size }, (_, n) =>
    product({
      id: productId(1_000_000 + n),
      sku: `GEN-${n}`,
      name: `${random.pick(brands)} ${random.pick(words)} ${random.pick(nouns)} ${random.int(1000)}`,
      description: Array.from({ length: 15 + random.int(20) }, () => random.pick(vocabulary)).join(' '),
      categoryIds: random.next() < 0.2 ? [categoryId(1 + random.int(categoryCount)), categoryId(1 + random.int(categoryCount))].filter((id, i, all) => all.indexOf(id) === i) : [categoryId(1 + random.int(categoryCount))],
      price: { amount: random.int(300_000), currency: 'USD' },
      attributes: { color: random.pick(colors), size: random.pick(sizes), wireless: random.next() < 0.3, weight_kg: 0.5 * (1 + random.int(20)) },
      tags: Array.from({ length: random.int(4) }, () => random.pick(tagPool)).filter((tag, i, all) => all.indexOf(tag) === i),
      stock: random.next() < 0.2 ? 0 : random.int(100),
      status: random.next() < 0.85 ? 'active' : random.pick(['draft', 'archived'] as const),
      createdAt: day(random.int(900)),
    }),
  );
  return { products, ancestors };
}

describe('product search index: text', () => {
  const phone = product({ name: 'Apple iPhone 15', description: 'A phone', tags: ['smartphone'] });
  const galaxy = product({ name: 'Samsung Galaxy S24', description: 'An android phone' });
  const kettle = product({ name: 'Kettle', description: 'Boils water; pairs with any phone charger', sku: 'KT-900' });
  const vase = product({ name: 'Glass vase', description: 'For flowers' });
  const cover = product({ name: 'Phone case', description: 'Protects' });
  const router = product({ name: 'Wi-Fi router', tags: ['wireless-charging'] });
  const index = indexOf([phone, galaxy, kettle, vase, cover, router]);
  const found = (q: string) => namesOf(index.search(query({ q })).items);

  it('when a word is mistyped ("iphne", "samsnug"), then the product meant is found', () => {
    expect(found('iphne')).toEqual(['Apple iPhone 15']);
    expect(found('samsnug')).toEqual(['Samsung Galaxy S24']);
  });

  it('when a long word is two edits off, then it is found, and three edits off, not', () => {
    expect(found('galxay')).toEqual(['Samsung Galaxy S24']);
    expect(found('gxlxzy')).toEqual([]);
  });

  it('when a typo is in a description or a SKU word, then it is not forgiven (only names and tags are)', () => {
    expect(found('flowrs')).toEqual([]);
    expect(found('kt-901')).toEqual([]);
  });

  it('when a word matches as typed, then its neighbours within the tolerance are not added ("case" does not find "vase")', () => {
    expect(found('case')).toEqual(['Phone case']);
  });

  it('when words are short, then they are not made tolerant (two letters never, five at most one edit)', () => {
    expect([typoToleranceFor('tv'), typoToleranceFor('iphne'), typoToleranceFor('samsnug')]).toEqual([0, 1, 2]);
    expect(index.search(query({ q: 'xq' })).total).toBe(0);
  });

  it('when q names a SKU, a tag or a word of the description, then those products match', () => {
    expect(found('kt-900')).toEqual(['Kettle']);
    expect(found('smartphone')).toEqual(['Apple iPhone 15']);
    expect(found('flowers')).toEqual(['Glass vase']);
  });

  it('when q has several words, then every word must match, and a hit in the name ranks above one in the description', () => {
    expect(found('android phone')).toEqual(['Samsung Galaxy S24']);
    const ranked = found('phone');
    expect(ranked.slice(0, 1)).toEqual(['Phone case']);
    expect(ranked.at(-1)).toBe('Kettle');
  });

  it('when a word is hyphenated, then its parts and the whole are words ("wifi" finds "Wi-Fi", "charging" the tag)', () => {
    for (const q of ['wifi', 'charging', 'wireless-charging']) expect(found(q)).toEqual(['Wi-Fi router']);
  });

  it('when q is a prefix of a word, then the word is found (search as you type)', () => {
    expect(found('galax')).toEqual(['Samsung Galaxy S24']);
  });

  it('when q holds no words (only punctuation), then it does not narrow the search', () => {
    expect(index.search(query({ q: ' -- !? ' })).total).toBe(6);
  });
});

describe('product search index: filters', () => {
  const [phones, phoneCases, kitchen] = [categoryId(101), categoryId(102), categoryId(103)];
  const electronics = categoryId(100);
  const cheapRed = product({ name: 'Cheap red', categoryIds: [phoneCases], price: { amount: 999, currency: 'USD' }, attributes: { color: 'red', size: 'm', wireless: true, weight: 1.5 }, tags: ['sale'] });
  const midBlue = product({ name: 'Mid blue', categoryIds: [phones], price: { amount: 1000, currency: 'USD' }, attributes: { color: 'blue', size: 'l', wireless: false, weight: 2 }, tags: ['new', 'sale'], stock: 0 });
  const dearRed = product({ name: 'Dear red', categoryIds: [phones, kitchen], price: { amount: 5000, currency: 'USD' }, attributes: { color: 'red', size: 'l' } });
  const draft = product({ name: 'Draft', categoryIds: [kitchen], status: 'draft' });
  const orphan = product({ name: 'Orphan', categoryIds: [categoryId(999)], price: { amount: 7000, currency: 'USD' } });
  const index = indexOf([cheapRed, midBlue, dearRed, draft, orphan]);
  index.placeCategory(electronics, []);
  index.placeCategory(phones, [electronics]);
  index.placeCategory(phoneCases, [electronics, phones]);

  const names = (fields: Partial<ProductSearchQuery>) => namesOf(index.search(query({ sort: 'price', order: 'asc', ...fields })).items);

  it('when filtering by a category, then direct means filed under it and subtree means under it or any descendant', () => {
    expect(names({ category: { id: phones, subtree: false } })).toEqual(['Mid blue', 'Dear red']);
    expect(names({ category: { id: electronics, subtree: true } })).toEqual(['Cheap red', 'Mid blue', 'Dear red']);
    expect(names({ category: { id: electronics, subtree: false } })).toEqual([]);
  });

  it('when a category the index was never told about is filtered on, then it is a root holding its own products', () => {
    expect(names({ category: { id: categoryId(999), subtree: true } })).toEqual(['Orphan']);
    expect(names({ category: { id: categoryId(998), subtree: true } })).toEqual([]);
  });

  it('when price bounds are given, then both are inclusive', () => {
    expect(names({ priceMin: 1000, priceMax: 5000 })).toEqual(['Mid blue', 'Dear red']);
    expect(names({ priceMax: 999 })).toEqual(['Cheap red']);
  });

  it('when attributes are given, then values of one attribute are alternatives and attributes must all hold', () => {
    expect(names({ attributes: { color: ['red', 'blue'] } })).toEqual(['Cheap red', 'Mid blue', 'Dear red']);
    expect(names({ attributes: { color: ['red', 'blue'], size: ['l'] } })).toEqual(['Mid blue', 'Dear red']);
    expect(names({ attributes: { color: ['green'] } })).toEqual([]);
  });

  it('when attribute values are booleans or numbers, then they are compared as their strings', () => {
    expect(names({ attributes: { wireless: ['true'] } })).toEqual(['Cheap red']);
    expect(names({ attributes: { weight: ['1.5', '2'] } })).toEqual(['Cheap red', 'Mid blue']);
  });

  it('when tags, stock and statuses are given, then any tag matches, in_stock splits on zero, and only listed statuses show', () => {
    expect(names({ tags: ['new', 'missing'] })).toEqual(['Mid blue']);
    expect(names({ inStock: false })).toEqual(['Mid blue']);
    expect(names({ inStock: true, tags: ['sale'] })).toEqual(['Cheap red']);
    expect(names({ statuses: ['draft'] })).toEqual(['Draft']);
    expect(names({ statuses: ['active', 'draft'] })).toHaveLength(5);
  });
});

describe('product search index: facets and total', () => {
  const [shoes, shirts] = [categoryId(201), categoryId(202)];
  const make = (name: string, category: string, amount: number, color: string, size: string) =>
    product({ name, categoryIds: [category], price: { amount, currency: 'USD' }, attributes: { color, size } });
  const index = indexOf([
    make('a', shoes, 500, 'red', 'm'),
    make('b', shoes, 1500, 'blue', 'm'),
    make('c', shoes, 3000, 'red', 'm'),
    make('d', shirts, 500, 'red', 'm'),
    make('e', shirts, 60000, 'green', 's'),
    make('f', shoes, 800, 'green', 'l'),
    make('g', shoes, 900, 'red', 'l'),
  ]);

  it('when filters are set, then total counts every match and each facet is counted with its own filter removed', () => {
    const { total, items, facets } = index.search(
      query({ limit: 1, category: { id: shoes, subtree: false }, attributes: { color: ['red'], size: ['m'] }, priceMax: 2000 }),
    );
    expect([total, namesOf(items)]).toEqual([1, ['a']]);
    // Each facet keeps the other filters: f (green) is left out of the colour facet by its size, c by its price.
    expect(facets.categories).toEqual({ [shoes]: 1, [shirts]: 1 });
    expect(facets.attributes.color).toEqual({ red: 1, blue: 1 });
    expect(facets.attributes.size).toEqual({ m: 1, l: 1 });
    const nonEmpty = facets.price.filter((bucket) => bucket.count > 0);
    expect(nonEmpty).toEqual([
      { min: 0, max: 1000, count: 1 },
      { min: 2500, max: 5000, count: 1 },
    ]);
  });

  it('when nothing is filtered, then the facets count every match; buckets cover all prices and the last is open', () => {
    const { facets, total } = index.search(query());
    expect(total).toBe(7);
    expect(facets.attributes.color).toEqual({ red: 4, green: 2, blue: 1 });
    expect(facets.price).toHaveLength(priceBuckets.length);
    expect(facets.price.at(-1)?.max).toBeUndefined();
    expect(facets.price.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(7);
    expect(facets.price.find((bucket) => bucket.min === 50000)).toEqual({ min: 50000, max: 100000, count: 1 });
  });

  it('when an attribute has more values than the cap, then the most frequent are kept, and selected ones always', () => {
    const capped = createProductSearchIndex({ attributeFacetValues: 2 });
    ['x', 'x', 'x', 'y', 'y', 'z'].forEach((code) => capped.upsert(product({ attributes: { code } })));
    expect(capped.search(query()).facets.attributes.code).toEqual({ x: 3, y: 2 });
    expect(capped.search(query({ attributes: { code: ['z'] } })).facets.attributes.code).toEqual({ x: 3, y: 2, z: 1 });
  });
});

describe('product search index: facets counted from the filter columns', () => {
  const [shoes, shirts, hats, bags] = [categoryId(211), categoryId(212), categoryId(213), categoryId(214)];
  const catalog = [
    product({ name: 'one category', categoryIds: [shoes], price: { amount: 500, currency: 'USD' }, attributes: { color: 'red', finish: 'matt' } }),
    product({ name: 'two categories', categoryIds: [shirts, hats], price: { amount: 1500, currency: 'USD' }, attributes: { color: 'blue', finish: 'gloss' } }),
    product({ name: 'three categories', categoryIds: [hats, bags, shirts], price: { amount: 3000, currency: 'USD' }, attributes: { color: 'red', finish: 'gloss' } }),
    product({ name: 'no category', categoryIds: [], price: { amount: 60000, currency: 'USD' }, attributes: { color: 'red' } }),
  ];
  /** The same products in an index with a column per attribute name, and in one that reads every attribute from entries. */
  const indexes = [0, 64].map((attributeColumns) => {
    const index = createProductSearchIndex({ attributeColumns });
    for (const each of catalog) index.upsert(each);
    return index;
  });

  it('when a product under two or three categories fails only the category filter, then each of its categories is counted', () => {
    for (const index of indexes) {
      const { total, items, facets } = index.search(query({ category: { id: shoes, subtree: false } }));
      expect([total, namesOf(items)]).toEqual([1, ['one category']]);
      expect(facets.categories).toEqual({ [shoes]: 1, [shirts]: 2, [hats]: 2, [bags]: 1 });
    }
  });

  it('when the filtered category is a product\'s second or third, then the product is filed under it', () => {
    for (const index of indexes) {
      const names = (id: string) => namesOf(index.search(query({ sort: 'name', order: 'asc', category: { id, subtree: false } })).items);
      expect(names(hats)).toEqual(['three categories', 'two categories']);
      expect(names(shirts)).toEqual(['three categories', 'two categories']);
      expect(names(bags)).toEqual(['three categories']);
    }
  });

  it('when a product fails only an attribute filter, then its value of that attribute is counted, with or without a column', () => {
    for (const index of indexes) {
      const { total, facets } = index.search(query({ attributes: { finish: ['matt'], color: ['red'] } }));
      expect(total).toBe(1);
      // "no category" has no finish: failing that filter alone, it counts towards no finish value.
      expect(facets.attributes.finish).toEqual({ gloss: 1, matt: 1 });
      expect(facets.attributes.color).toEqual({ red: 1 });
    }
  });

  it('when a product fails only the price filter, then its price bucket is counted', () => {
    for (const index of indexes) {
      const { total, facets } = index.search(query({ priceMax: 1000 }));
      expect(total).toBe(1);
      expect(facets.price.filter((bucket) => bucket.count > 0)).toEqual([
        { min: 0, max: 1000, count: 1 },
        { min: 1000, max: 2500, count: 1 },
        { min: 2500, max: 5000, count: 1 },
        { min: 50000, max: 100000, count: 1 },
      ]);
    }
  });

  it('when none of the asked tags is on any product, then nothing matches and every facet count is zero', () => {
    const index = indexOf([product({ name: 'Tagged lamp', tags: ['sale'] }), product({ name: 'Plain lamp' })]);
    const { total, items, next, facets } = index.search(query({ q: 'lamp', tags: ['no-such-tag'] }));
    expect([total, items, next]).toEqual([0, [], undefined]);
    expect([facets.categories, facets.attributes]).toEqual([{}, {}]);
    expect(facets.price.every((bucket) => bucket.count === 0)).toBe(true);
    expect(namesOf(index.search(query({ q: 'lamp', tags: ['no-such-tag', 'sale'] })).items)).toEqual(['Tagged lamp']);
  });

  it('when products were removed or replaced, then a search without q counts only what the index holds now', () => {
    const [kept, removed, replaced] = [product({ name: 'Kept' }), product({ name: 'Removed' }), product({ name: 'Before' })];
    const index = indexOf([kept, removed, replaced]);
    index.remove(removed.id, 2);
    index.upsert({ ...replaced, name: 'After', categoryIds: [categoryId(2)], version: 2 });
    const { total, items, facets } = index.search(query({ sort: 'name', order: 'asc' }));
    expect([total, namesOf(items)]).toEqual([2, ['After', 'Kept']]);
    expect(facets.categories).toEqual({ [categoryId(1)]: 1, [categoryId(2)]: 1 });
  });
});

describe('product search index: one search after another', () => {
  const index = indexOf([
    product({ name: 'Red kettle' }),
    product({ name: 'Blue kettle' }),
    product({ name: 'Red lamp', description: 'kettle shaped' }),
    product({ name: 'Blue lamp' }),
  ]);
  const names = (q: string) => namesOf(index.search(query({ q, sort: 'name', order: 'asc' })).items);

  it('when searches follow each other, then each finds its own words only, and scores do not carry over', () => {
    const first = index.search(query({ q: 'red kettle' }));
    expect(names('blue lamp')).toEqual(['Blue lamp']);
    expect(names('kettle')).toEqual(['Blue kettle', 'Red kettle', 'Red lamp']);
    expect(names('ketle')).toEqual(['Blue kettle', 'Red kettle']);
    expect(names('green')).toEqual([]);
    expect(index.search(query({ q: 'red kettle' }))).toEqual(first);
    // A name hit outranks a description hit, as on a fresh index.
    expect(namesOf(first.items)).toEqual(['Red kettle', 'Red lamp']);
  });
});

describe('product search index: sorting and cursors', () => {
  const { products } = generatedCatalog(400, 11);

  function everyPage(index: ReturnType<typeof createProductSearchIndex>, fields: Partial<ProductSearchQuery>, between?: (page: number) => void) {
    const seen: string[] = [];
    let after: ProductSearchQuery['after'];
    for (let page = 0; page < 1000; page += 1) {
      const result = index.search(query({ limit: 7, statuses: ['active', 'draft', 'archived'], ...fields, ...(after ? { after } : {}) }));
      seen.push(...result.items.map((item) => item.id));
      if (!result.next) return seen;
      after = result.next;
      between?.(page);
    }
    throw new Error('paging did not end');
  }

  it.each([
    ['price', 'asc'],
    ['price', 'desc'],
    ['name', 'asc'],
    ['newest', 'desc'],
  ] as const)('when sorting by %s %s, then items follow the key, ties broken by id', (sort, order) => {
    const index = indexOf(products);
    const { items } = index.search(query({ sort, order, limit: 400, statuses: ['active', 'draft', 'archived'] }));
    const keyOf = (item: Product) => (sort === 'price' ? item.price.amount : sort === 'name' ? item.name.toLowerCase() : Date.parse(item.createdAt));
    const expected = [...products].sort((a, b) => {
      const [ka, kb] = [keyOf(a), keyOf(b)];
      const byKey = ka === kb ? (a.id < b.id ? -1 : 1) : ka < kb ? -1 : 1;
      return order === 'asc' ? byKey : -byKey;
    });
    expect(items.map((item) => item.id)).toEqual(expected.map((item) => item.id));
  });

  it('when sorting by name, then case does not matter', () => {
    const index = indexOf([product({ name: 'banana' }), product({ name: 'Apple' }), product({ name: 'cherry' })]);
    expect(namesOf(index.search(query({ sort: 'name', order: 'asc' })).items)).toEqual(['Apple', 'banana', 'cherry']);
  });

  it.each(['price', 'name', 'newest'] as const)(
    'when products are added between pages sorted by %s, then every product there before appears exactly once',
    (sort) => {
      const index = indexOf(products);
      const random = seededDraws(99);
      const before = new Set(products.map((each) => each.id));
      const seen = everyPage(index, { sort, order: 'asc' }, () => {
        const { products: more } = generatedCatalog(3, random.int(1_000_000));
        for (const extra of more) index.upsert({ ...extra, id: productId(5_000_000 + random.int(1_000_000_000)) });
      });
      const seenBefore = seen.filter((id) => before.has(id));
      expect(seenBefore).toHaveLength(before.size);
      expect(new Set(seenBefore).size).toBe(before.size);
      expect(new Set(seen).size).toBe(seen.length);
    },
  );

  it('when paging by relevance with no writes between pages, then every match appears exactly once, best first', () => {
    const index = indexOf(products);
    const all = index.search(query({ q: 'phone', limit: 400, statuses: ['active', 'draft', 'archived'] }));
    expect(all.total).toBeGreaterThan(7);
    expect(everyPage(index, { q: 'phone' })).toEqual(all.items.map((item) => item.id));
  });

  it('when a cursor of another sort is given, then it is told apart before the search', () => {
    expect(cursorFitsSort('price', [12, productId(1)])).toBe(true);
    expect(cursorFitsSort('name', [12, productId(1)])).toBe(false);
    expect(() => indexOf([]).search(query({ sort: 'name', after: [12, productId(1)] }))).toThrow(RangeError);
  });
});

describe('product search index: keeping current', () => {
  it('when an upsert is not newer than the indexed version or a deletion, then it is ignored', () => {
    const index = createProductSearchIndex();
    const first = product({ name: 'Original' });
    expect(index.upsert(first)).toBe(true);
    expect(index.upsert({ ...first, name: 'Newer', version: 3 })).toBe(true);
    expect(index.upsert({ ...first, name: 'Late', version: 2 })).toBe(false);
    expect(index.upsert({ ...first, name: 'Twice', version: 3 })).toBe(false);
    expect(namesOf(index.search(query({ q: 'newer' })).items)).toEqual(['Newer']);
    expect(index.search(query({ q: 'original' })).total).toBe(0);

    expect(index.remove(first.id, 4)).toBe(true);
    expect(index.upsert({ ...first, name: 'Revived', version: 4 })).toBe(false);
    expect(index.size).toBe(0);
  });

  it('when a deletion arrives before the product, then the product never appears', () => {
    const index = createProductSearchIndex();
    const late = product({ version: 2 });
    expect(index.remove(late.id, 2)).toBe(false);
    expect(index.upsert(late)).toBe(false);
    expect(index.size).toBe(0);
  });

  it('when a category moves, then its products and those of its descendants are found under the new place at once', () => {
    const [oldRoot, newRoot, moved, child] = [categoryId(301), categoryId(302), categoryId(303), categoryId(304)];
    const index = indexOf([product({ name: 'In moved', categoryIds: [moved] }), product({ name: 'In child', categoryIds: [child] })]);
    index.placeCategory(moved, [oldRoot]);
    index.placeCategory(child, [oldRoot, moved]);
    const under = (id: string) => namesOf(index.search(query({ sort: 'name', order: 'asc', category: { id, subtree: true } })).items);
    expect(under(oldRoot)).toEqual(['In child', 'In moved']);

    index.placeCategory(moved, [newRoot]);
    expect(under(oldRoot)).toEqual([]);
    expect(under(newRoot)).toEqual(['In child', 'In moved']);

    index.forgetCategory(child);
    expect(under(newRoot)).toEqual(['In moved']);
  });

  it('when a product arrives in a placed category after a subtree search, then the next subtree search finds it', () => {
    const [root, empty] = [categoryId(401), categoryId(402)];
    const index = createProductSearchIndex();
    index.placeCategory(empty, [root]);
    const under = () => namesOf(index.search(query({ category: { id: root, subtree: true } })).items);
    expect(under()).toEqual([]);
    index.upsert(product({ name: 'First in its category', categoryIds: [empty] }));
    expect(under()).toEqual(['First in its category']);
  });

  it('when loaded from a snapshot, then it holds the newest version of each product, searchable', () => {
    const old = product({ name: 'Old name' });
    const index = createProductSearchIndex({ products: [old, { ...old, name: 'New name', version: 2 }, product({ name: 'Other' })] });
    expect(index.size).toBe(2);
    expect(namesOf(index.search(query({ q: 'name' })).items)).toEqual(['New name']);
    expect(index.upsert({ ...old, version: 2 })).toBe(false);
  });
});

// Measures the index at 100,000 products (docs/search.md). Run with
// SEARCH_INDEX_MEASURE=1 node --expose-gc node_modules/.bin/jest --selectProjects unit services/products/test/product-search-index.test.ts
const measure = process.env.SEARCH_INDEX_MEASURE === '1' ? describe : describe.skip;
measure('product search index: 100,000 products (measurement)', () => {
  it('when searching with q, two filters and facets, then the time and heap are printed', () => {
    const collect = () => (globalThis as { gc?: () => void }).gc?.();
    const { products, ancestors } = generatedCatalog(100_000, 2026);
    collect();
    const heapBefore = process.memoryUsage().heapUsed;
    let started = performance.now();
    const index = createProductSearchIndex({ products });
    const loadMs = performance.now() - started;
    for (const [id, path] of ancestors) index.placeCategory(id, path);
    collect();
    const heapIndex = process.memoryUsage().heapUsed - heapBefore;

    const random = seededDraws(5);
    const timings = (make: () => Partial<ProductSearchQuery>) => {
      const times: number[] = [];
      for (let run = 0; run < 200; run += 1) {
        const fields = make();
        started = performance.now();
        index.search(query({ limit: 20, ...fields }));
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      return { min: times[0]?.toFixed(1), p50: times[100]?.toFixed(1), p95: times[190]?.toFixed(1), max: times[199]?.toFixed(1) };
    };
    const report = {
      loadAverage: os.loadavg()[0]?.toFixed(1),
      loadMs: Math.round(loadMs),
      heapMB: Math.round(heapIndex / 2 ** 20),
      qTwoFiltersFacets: timings(() => ({ q: random.pick(nouns), category: { id: categoryId(1 + random.int(6)), subtree: true }, attributes: { color: [random.pick(colors), random.pick(colors)] } })),
      qBrandNounTwoFilters: timings(() => ({ q: `${random.pick(brands)} ${random.pick(nouns)}`, priceMax: 100_000, attributes: { size: [random.pick(sizes)] } })),
      typoTwoFilters: timings(() => ({ q: 'samsnug', inStock: true, attributes: { color: [random.pick(colors)] } })),
      noQTwoFiltersByPrice: timings(() => ({ sort: 'price', order: 'asc', priceMin: 10_000, attributes: { color: [random.pick(colors)] } })),
      everythingNewest: timings(() => ({ sort: 'newest' })),
    };
    console.log(JSON.stringify(report, null, 1));
    expect(index.size).toBe(100_000);
  });
});

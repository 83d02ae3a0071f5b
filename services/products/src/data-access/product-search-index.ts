import { components, count, create, insert, insertMultiple, remove } from '@orama/orama';
import { radix } from '@orama/orama/trees';
import type { CursorValue } from '@mercato/platform';
import { productStatuses, type Product } from '../domain/product-schema';
import type {
  PriceBucket,
  ProductFacets,
  ProductSearchIndex,
  ProductSearchQuery,
  ProductSearchResult,
  ProductSort,
} from '../domain/product-search';

/**
 * The products search index (design and measurements in docs/search.md).
 *
 * Orama holds the text part only: its tokenizer, a radix tree per field and the BM25 statistics, kept current on
 * insert and remove. Its document holds the four searched fields and nothing else. Word lookup and scoring read those
 * structures here (Orama's own search paths were measured slow at 100,000 products; see each function). Filters,
 * facets and sorting run in one pass over compact entries, because Orama can neither count a facet with its own filter
 * removed nor express a keyset position `(value, id) > after`; with Orama they would cost one search per facet plus a
 * full sort per page.
 */

/** Lower bounds of the price buckets in minor units; the last bucket is open-ended. */
export const priceBuckets: readonly number[] = [0, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000];

export interface ProductSearchIndexOptions {
  /** The start-up snapshot, loaded with Orama's `insertMultiple` (faster than one upsert each). */
  products?: Iterable<Product>;
  /** Values shown per attribute facet, the most frequent first (values the query selected are always shown). */
  attributeFacetValues?: number;
  /** Attribute names whose values are kept in a filter column (the first ones seen); others are filtered per entry. */
  attributeColumns?: number;
}

// Tags are indexed as one text: Orama's `string[]` keeps the term frequencies of an array's last element only.
const oramaSchema = { name: 'string', description: 'string', sku: 'string', tags: 'string' } as const;
/** A name hit ranks above a tag or SKU hit, which ranks above a hit in the description. */
const fieldBoost = { name: 3, tags: 2, sku: 2, description: 1 };
const searchedFields = Object.keys(oramaSchema);
/**
 * Typos are forgiven where shoppers aim, names and tags (brands, kinds of product). Not in SKUs: codes are not words,
 * one edit from "GEN-12" is another product. Not in descriptions: their vocabulary is the largest by far, and the
 * tolerant walk over it cost a third of a typo search (measured at 100,000 products).
 */
const tolerantFields = ['name', 'tags'];
/** Orama's BM25 parameters (its defaults). */
const bm25 = { k: 1.2, b: 0.75, d: 0.5 };

interface TextDocument {
  id: string;
  name: string;
  description: string;
  sku: string;
  tags: string;
}

/** What a search reads for each product, prepared once per version so the per-search pass does no parsing. */
interface Entry {
  product: Product;
  // The fields every search reads sit on the entry itself: reaching into the product costs a cache miss per product.
  id: string;
  price: number;
  inStock: boolean;
  /** Orama's number for the product, which its text search answers with. */
  internalId: number;
  /** Index of `product.status` in `productStatuses`. */
  status: number;
  priceBucket: number;
  nameKey: string;
  createdAt: number;
  /** Interned direct category ids. */
  categories: number[];
  /** Interned (attribute name, value as a string) pairs; a product has at most one value per name. */
  attributePairs: number[];
}

/**
 * Edits needed to reach each other word, by the length of the typed word (Elasticsearch's `fuzziness: AUTO`): a
 * transposition is two edits, so "samsnug" (7) reaches "samsung", "iphne" (5) reaches "iphone" by one insertion, and
 * two-letter words never reach anything else. Only used for a word that matches nothing as typed (see `termScores`).
 */
export function typoToleranceFor(word: string): number {
  const length = [...word].length;
  if (length <= 2) return 0;
  return length <= 5 ? 1 : 2;
}

/** Whether a cursor position has the shape the sort's keys have; anything else is a cursor of another sort. */
export function cursorFitsSort(sort: ProductSort, after: readonly CursorValue[]): boolean {
  const [value, id] = after;
  if (after.length !== 2 || typeof id !== 'string') return false;
  return sort === 'name' ? typeof value === 'string' : typeof value === 'number' && Number.isFinite(value);
}

/** Numbers ↔ strings, so the per-search pass compares small integers instead of hashing strings. */
class Interner {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  idOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }
  find(name: string): number | undefined {
    return this.ids.get(name);
  }
  get size(): number {
    return this.names.length;
  }
}

function createTextIndex() {
  const tokenizer = components.tokenizer.createTokenizer({ language: 'english' });
  const tokenizeWithCache = tokenizer.tokenize;
  // Orama caches every normalized token; for indexed fields that is the vocabulary, but for query words (no `prop`)
  // it would keep every word a shopper ever typed, so queries skip the cache.
  tokenizer.tokenize = (raw, language, prop, withCache) =>
    withHyphenParts(tokenizeWithCache(raw, language, prop, prop === undefined ? false : withCache));
  const db = create({ schema: oramaSchema, sort: { enabled: false }, components: { tokenizer, index: lighterIndex() } });
  return { db, tokenizer };
}

/**
 * Orama's index without its per-document table of term frequencies; same scores, a fraction of the memory. The
 * default keeps, per document and field, an object whose keys are the document's words: V8 makes a hidden class for
 * nearly every one, and a number among the words ("phone 500") becomes an array index that allocates that many slots
 * (≈ 6 KB a product, most of the index's heap, measured). But the tokenizer drops repeated words, so every word of a
 * field has the same frequency, 1 / the field's length, and Orama only asks for the frequency of a word it found in
 * that document. One read-only object per field length, answering that value for any word, is therefore exact.
 * Removal and the other statistics (lengths, occurrences) stay Orama's.
 */
type Index = components.index.Index;
type DocumentID = components.internalDocumentIDStore.DocumentID;

function lighterIndex() {
  const index = components.index.createIndex();
  const frequencyTables = new Map<number, Record<string, number>>();
  const frequencyTableFor = (length: number) => {
    let table = frequencyTables.get(length);
    if (!table) {
      const frequency = 1 / length;
      table = new Proxy(Object.freeze({}) as Record<string, number>, { get: () => frequency });
      frequencyTables.set(length, table);
    }
    return table;
  };
  return {
    ...index,
    insertDocumentScoreParameters(data: Index, prop: string, id: DocumentID, tokens: string[], docsCount: number) {
      index.insertDocumentScoreParameters(data, prop, id, tokens, docsCount);
      const internalId = components.internalDocumentIDStore.getInternalDocumentId(data.sharedInternalDocumentStore, id);
      (data.frequencies[prop] as Record<number, Record<string, number>>)[internalId] = frequencyTableFor(tokens.length);
    },
    insertTokenScoreParameters(data: Index, prop: string, _id: DocumentID, _tokens: string[], token: string) {
      const occurrences = data.tokenOccurrences[prop] as Record<string, number>;
      occurrences[token] = (occurrences[token] ?? 0) + 1;
    },
  };
}

/**
 * Orama's English tokenizer keeps hyphenated words whole ("wireless-charging", "kt-900"). Their parts are added beside
 * them, in documents and queries alike, so "charging" finds the tag and "wifi" (one edit from "wi-fi") finds "Wi-Fi";
 * a token of hyphens alone is no word.
 */
function withHyphenParts(tokens: string[]): string[] {
  if (!tokens.some((token) => token.includes('-'))) return tokens;
  const words = new Set<string>();
  for (const token of tokens) {
    if (!/[\p{L}\p{N}]/u.test(token)) continue;
    words.add(token);
    if (token.includes('-')) for (const part of token.split('-')) if (part) words.add(part);
  }
  return [...words];
}

/**
 * Orama 3.1.18 collects a word's documents with `if (!docs.includes(id)) docs.push(id)`, quadratic in the documents
 * holding the word: a word in 10,000 of 100,000 products cost seconds per search (measured). The list it fills is
 * always new and the documents come from a Set, so the check never finds anything; this replacement copies the Set.
 * It is applied only while the installed code still has that loop, and only for the plain (tolerance 0) walk this
 * index uses; a tolerant walk keeps Orama's code.
 */
function withoutQuadraticWordCollection(): void {
  const prototype = radix.RadixNode.prototype;
  const original = prototype.findAllWords;
  if (!String(original).includes('docs.includes(docID)')) return;
  prototype.findAllWords = function findAllWords(this: radix.RadixNode, output, term, exact, tolerance) {
    if (tolerance) return original.call(this, output, term, exact, tolerance);
    const stack: radix.RadixNode[] = [this];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.e) {
        if (exact && node.w !== term) continue;
        output[node.w] = Array.from(node.d);
      }
      for (const child of node.c.values()) stack.push(child);
    }
    return output;
  };
}
withoutQuadraticWordCollection();

/**
 * The words of a radix tree within `tolerance` Levenshtein edits of `term`, with their documents. A trie walk that
 * carries one row of the edit-distance table per character and leaves a branch as soon as every entry of its row
 * exceeds the tolerance. Orama's own tolerant lookup tries every edit at every node instead, which took most of a typo
 * search at 100,000 products (measured); this one visits only prefixes that can still end within the tolerance.
 */
function wordsWithin(root: radix.RadixNode, term: string, tolerance: number): Array<[string, Iterable<number>]> {
  const found: Array<[string, Iterable<number>]> = [];
  const walk = (node: radix.RadixNode, row: readonly number[]) => {
    for (const child of node.c.values()) {
      let current: readonly number[] | undefined = row;
      for (let at = 0; at < child.s.length && current !== undefined; at += 1) {
        current = nextRow(current, term, child.s[at] as string, tolerance);
      }
      if (current === undefined) continue;
      if (child.e && (current[term.length] as number) <= tolerance && child.d.size > 0) found.push([child.w, child.d]);
      walk(child, current);
    }
  };
  walk(root, Array.from({ length: term.length + 1 }, (_, at) => at));
  return found;
}

/** The edit-distance row after one more character of the tree's word; undefined when no extension can come back. */
function nextRow(row: readonly number[], term: string, character: string, tolerance: number): number[] | undefined {
  const next = [(row[0] as number) + 1];
  let best = next[0] as number;
  for (let at = 1; at <= term.length; at += 1) {
    const substitution = (row[at - 1] as number) + (term[at - 1] === character ? 0 : 1);
    const distance = Math.min((next[at - 1] as number) + 1, (row[at] as number) + 1, substitution);
    next.push(distance);
    if (distance < best) best = distance;
  }
  return best > tolerance ? undefined : next;
}

function synchronous<T>(result: T | Promise<T>): T {
  // The default components are synchronous; a Promise means a plugin or hook made Orama asynchronous.
  if (result instanceof Promise) {
    throw new Error('Orama answered asynchronously; the products index expects its synchronous components');
  }
  return result;
}

const textDocumentOf = (product: Product): TextDocument => ({
  id: product.id,
  name: product.name,
  description: product.description,
  sku: product.sku,
  tags: product.tags.join(' '),
});

function bucketOf(amount: number): number {
  let bucket = 0;
  while (bucket + 1 < priceBuckets.length && amount >= (priceBuckets[bucket + 1] as number)) bucket += 1;
  return bucket;
}

/** Total order of a sort key: the value, then the id (ids are unique, so no two entries tie). */
function compareKeys(value: number | string, id: string, otherValue: CursorValue, otherId: CursorValue): number {
  if (value !== otherValue) return (otherValue as number | string) < value ? 1 : -1;
  if (id === otherId) return 0;
  return (otherId as string) < id ? 1 : -1;
}

interface Candidate {
  entry: Entry;
  value: number | string;
}

/** The first `capacity` candidates in key order, kept sorted; one comparison rejects most candidates. */
class TopCandidates {
  readonly items: Candidate[] = [];
  constructor(
    private readonly capacity: number,
    private readonly direction: 1 | -1,
  ) {}
  private compare(a: Candidate, b: Candidate): number {
    return this.direction * compareKeys(a.value, a.entry.id, b.value, b.entry.id);
  }
  offer(entry: Entry, value: number | string): void {
    const { items } = this;
    const worst = items[this.capacity - 1];
    if (worst && this.direction * compareKeys(value, entry.id, worst.value, worst.entry.id) >= 0) return;
    const candidate = { entry, value };
    let low = 0;
    let high = items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.compare(items[middle] as Candidate, candidate) < 0) low = middle + 1;
      else high = middle;
    }
    items.splice(low, 0, candidate);
    if (items.length > this.capacity) items.pop();
  }
}

/**
 * Summed text scores by Orama's document number, one sheet per index reused by every search (searches are synchronous,
 * so one is never in use twice). A `Map` per word and search cost its hashing, its growth, an `[id, score]` pair per
 * document read back and the garbage: with it, the benchmark's word ("headphones", 2,900 documents) took ≈ 0.4 ms,
 * with the sheet ≈ 0.1 ms (measured at 100,000 products). A slot belongs to the current round when its mark equals
 * `round`, so starting a round clears nothing.
 */
class ScoreSheet {
  private scores = new Float64Array(0);
  private marks = new Uint32Array(0);
  /** Never 0, the mark of a slot no round has used. */
  private round = 1;
  /** The documents scored this round, in the order first scored. */
  ids = new Int32Array(0);
  size = 0;

  clear(): void {
    this.size = 0;
    this.round += 1;
    if (this.round === 0xffffffff) {
      this.marks.fill(0);
      this.round = 1;
    }
  }

  /** Adds to the document's score; the first addition sets it (as `0 + score` would, so sums are unchanged). */
  add(internalId: number, score: number): void {
    if (internalId >= this.marks.length) this.grow(internalId + 1);
    if (this.marks[internalId] === this.round) {
      this.scores[internalId] += score;
    } else {
      this.marks[internalId] = this.round;
      this.scores[internalId] = score;
      this.ids[this.size] = internalId;
      this.size += 1;
    }
  }

  has(internalId: number): boolean {
    return this.marks[internalId] === this.round;
  }

  scoreOf(internalId: number): number {
    return this.scores[internalId] as number;
  }

  /** Keeps the documents `other` scored too, adding their score there; the order stays that of this sheet. */
  intersect(other: ScoreSheet): void {
    let kept = 0;
    for (let at = 0; at < this.size; at += 1) {
      const internalId = this.ids[at] as number;
      if (!other.has(internalId)) continue;
      this.scores[internalId] += other.scoreOf(internalId);
      this.ids[kept] = internalId;
      kept += 1;
    }
    this.size = kept;
  }

  private grow(size: number): void {
    const capacity = Math.max(size, this.marks.length * 2, 1024);
    const scores = new Float64Array(capacity);
    scores.set(this.scores);
    const marks = new Uint32Array(capacity);
    marks.set(this.marks);
    const ids = new Int32Array(capacity);
    ids.set(this.ids);
    this.scores = scores;
    this.marks = marks;
    this.ids = ids;
  }
}

/**
 * What the per-search pass reads to turn a candidate away, as columns indexed by Orama's document number: a candidate
 * that fails the filters then costs a few reads of small typed arrays, not its entry object and that object's arrays
 * scattered through the heap (the pass is bound by those reads at 100,000 products; docs/search.md). A candidate that
 * fails exactly one faceted filter is counted from the columns too (most of a filtered search's candidates are those);
 * entries stay the source for what a match counts and returns.
 */
class FilterColumns {
  /** 1 + the index of the status in `productStatuses`; 0 for a number with no product. */
  status = new Uint8Array(0);
  inStock = new Uint8Array(0);
  price = new Float64Array(0);
  priceBucket = new Uint8Array(0);
  /**
   * The first two direct categories (-1: none); `categoryCount` says whether there are more (then only the entry has
   * them all). One product in ten of the benchmark's catalog is filed under two.
   */
  firstCategory = new Int32Array(0);
  secondCategory = new Int32Array(0);
  categoryCount = new Uint8Array(0);
  /** Per attribute name id: 1 + the product's (name, value) pair id, 0 without that attribute. */
  readonly attributes = new Map<number, Int32Array>();
  /**
   * Names beyond `maxAttributeColumns` get no column (4 bytes a product each): a filter on one reads the entries.
   * Attribute names are free-form, so a catalog could have thousands.
   */
  readonly uncolumned = new Set<number>();

  constructor(private readonly maxAttributeColumns: number) {}

  file(entry: Entry, nameOfPair: readonly number[]): void {
    const at = entry.internalId;
    if (at >= this.status.length) this.grow(at + 1);
    this.status[at] = entry.status + 1;
    this.inStock[at] = entry.inStock ? 1 : 0;
    this.price[at] = entry.price;
    this.priceBucket[at] = entry.priceBucket;
    this.firstCategory[at] = entry.categories[0] ?? -1;
    this.secondCategory[at] = entry.categories[1] ?? -1;
    this.categoryCount[at] = Math.min(entry.categories.length, 255);
    for (const column of this.attributes.values()) column[at] = 0;
    for (const pair of entry.attributePairs) {
      const column = this.attributeColumn(nameOfPair[pair] as number);
      if (column) column[at] = pair + 1;
    }
  }

  forget(internalId: number): void {
    if (internalId < this.status.length) this.status[internalId] = 0;
  }

  private attributeColumn(nameId: number): Int32Array | undefined {
    let column = this.attributes.get(nameId);
    if (!column && !this.uncolumned.has(nameId)) {
      if (this.attributes.size >= this.maxAttributeColumns) {
        this.uncolumned.add(nameId);
        return undefined;
      }
      column = new Int32Array(this.status.length);
      this.attributes.set(nameId, column);
    }
    return column;
  }

  private grow(size: number): void {
    const capacity = Math.max(size, this.status.length * 2, 1024);
    const grown = <A extends Uint8Array | Int32Array | Float64Array>(old: A, make: (n: number) => A): A => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.status = grown(this.status, (n) => new Uint8Array(n));
    this.inStock = grown(this.inStock, (n) => new Uint8Array(n));
    this.price = grown(this.price, (n) => new Float64Array(n));
    this.priceBucket = grown(this.priceBucket, (n) => new Uint8Array(n));
    this.firstCategory = grown(this.firstCategory, (n) => new Int32Array(n));
    this.secondCategory = grown(this.secondCategory, (n) => new Int32Array(n));
    this.categoryCount = grown(this.categoryCount, (n) => new Uint8Array(n));
    for (const [nameId, column] of this.attributes) this.attributes.set(nameId, grown(column, (n) => new Int32Array(n)));
  }
}

/** Facets each drop their own filter: which faceted filter a candidate failed decides what it counts towards. */
const facetFilter = { category: -1, price: -2 } as const;

export function createProductSearchIndex(options: ProductSearchIndexOptions = {}): ProductSearchIndex {
  const attributeFacetValues = options.attributeFacetValues ?? 50;
  const { db, tokenizer } = createTextIndex();
  const entries = new Map<string, Entry>();
  const entryByInternalId: Array<Entry | undefined> = [];
  const columns = new FilterColumns(options.attributeColumns ?? 64);
  /** Versions of deleted products, so a late upsert of an older version cannot revive one. */
  const deletedAt = new Map<string, number>();
  const categoryIds = new Interner();
  const attributeNames = new Interner();
  const attributePairs = new Interner();
  /** Attribute name id of each pair id. */
  const pairName: number[] = [];
  /** Category id → its ancestors, root first. A category not in here is a root. */
  const ancestorsOf = new Map<string, readonly string[]>();
  /** Every tag a product has carried since start-up (never shrinks, so "not in here" means "no product has it"). */
  const knownTags = new Set<string>();
  /** Category id → membership flags (by interned id) of its subtree; cleared whenever the tree changes. */
  const subtrees = new Map<string, Uint8Array>();
  /** The text matches of the current search, and the scores of its next word while they are intersected. */
  const matchSheet = new ScoreSheet();
  const wordSheet = new ScoreSheet();

  const pairOf = (name: string, value: string | number | boolean) => {
    const pair = attributePairs.idOf(`${name}\u0000${String(value)}`);
    if (pair === pairName.length) pairName.push(attributeNames.idOf(name));
    return pair;
  };

  const entryOf = (product: Product): Entry => ({
    product,
    id: product.id,
    price: product.price.amount,
    inStock: product.stock > 0,
    internalId: components.internalDocumentIDStore.getInternalDocumentId(db.internalDocumentIDStore, product.id),
    status: productStatuses.indexOf(product.status),
    priceBucket: bucketOf(product.price.amount),
    nameKey: product.name.toLowerCase(),
    createdAt: Date.parse(product.createdAt),
    categories: product.categoryIds.map((id) => categoryIds.idOf(id)),
    attributePairs: Object.entries(product.attributes).map(([name, value]) => pairOf(name, value)),
  });

  const file = (entry: Entry) => {
    for (const tag of entry.product.tags) knownTags.add(tag);
    entries.set(entry.product.id, entry);
    entryByInternalId[entry.internalId] = entry;
    columns.file(entry, pairName);
  };

  const isStale = (id: string, version: number) => {
    const indexed = entries.get(id)?.product.version ?? 0;
    return version <= indexed || version <= (deletedAt.get(id) ?? 0);
  };

  if (options.products) {
    // Keep the newest version of each product the snapshot names, then load them in one call.
    const newest = new Map<string, Product>();
    for (const product of options.products) {
      if ((newest.get(product.id)?.version ?? 0) < product.version) newest.set(product.id, product);
    }
    synchronous(insertMultiple(db, [...newest.values()].map(textDocumentOf), 1000));
    for (const product of newest.values()) file(entryOf(product));
  }

  function subtreeOf(categoryId: string): Uint8Array {
    let members = subtrees.get(categoryId);
    if (!members) {
      // Intern every member before sizing the flags, so a category no product has used yet still fits.
      const memberIds = [categoryIds.idOf(categoryId)];
      for (const [descendant, ancestors] of ancestorsOf) {
        if (ancestors.includes(categoryId)) memberIds.push(categoryIds.idOf(descendant));
      }
      members = new Uint8Array(categoryIds.size);
      for (const member of memberIds) members[member] = 1;
      subtrees.set(categoryId, members);
    }
    return members;
  }

  /**
   * The documents holding every word of `q`, with their summed BM25 scores (in `matchSheet`, valid until the next
   * search); undefined without words.
   */
  function textMatches(q: string | undefined): ScoreSheet | undefined {
    const words = q === undefined ? [] : tokenizer.tokenize(q, 'english', undefined, false);
    if (words.length === 0) return undefined;
    for (const [at, word] of words.entries()) {
      if (at === 0) {
        termScores(word, matchSheet);
      } else {
        termScores(word, wordSheet);
        matchSheet.intersect(wordSheet);
      }
      if (matchSheet.size === 0) break;
    }
    return matchSheet;
  }

  /**
   * Documents holding one word: as typed or as a prefix of a longer word first; only when that finds nothing anywhere,
   * words within the length-based tolerance. A real word therefore never drags in its neighbours ("case" does not
   * find "vase"), and a typo that matches nothing still finds what was meant.
   */
  function termScores(word: string, sheet: ScoreSheet): void {
    sheet.clear();
    scoresWithin(word, 0, searchedFields, sheet);
    const tolerance = typoToleranceFor(word);
    if (sheet.size === 0 && tolerance > 0) scoresWithin(word, tolerance, tolerantFields, sheet);
  }

  /**
   * Orama's BM25 over its own index data (radix lookup, word counts, field lengths), summed over fields with their
   * boosts: the scores `orama.search` gives, without its per-document bookkeeping for `threshold` and `where`, which
   * was most of a two-word search's time at 100,000 products (a Map per matching document, per word).
   */
  function scoresWithin(word: string, tolerance: number, fields: readonly string[], scores: ScoreSheet): void {
    const data = db.data.index;
    const documents = count(db);
    for (const field of fields) {
      const tree = data.indexes[field];
      if (tree?.type !== 'Radix') continue;
      const boost = fieldBoost[field as keyof typeof fieldBoost];
      const averageLength = data.avgFieldLength[field] as number;
      const lengths = data.fieldLengths[field] as Record<number, number | undefined>;
      const occurrences = data.tokenOccurrences[field] as Record<string, number | undefined>;
      const found =
        tolerance > 0
          ? wordsWithin(tree.node, word, tolerance)
          : Object.entries(tree.node.find({ term: word, exact: false, tolerance: 0 }));
      for (const [matched, holders] of found) {
        const holding = occurrences[matched] ?? 0;
        const idf = Math.log(1 + (documents - holding + 0.5) / (holding + 0.5));
        for (const internalId of holders) {
          const length = lengths[internalId] ?? 1;
          // Words are unique per field (the tokenizer drops repeats), so a word's frequency is 1 / length.
          const frequency = 1 / length;
          const lengthNorm = 1 - bm25.b + (bm25.b * length) / averageLength;
          const score = (idf * (bm25.d + frequency * (bm25.k + 1))) / (frequency + bm25.k * lengthNorm);
          scores.add(internalId, score * boost);
        }
      }
    }
  }

  function search(query: ProductSearchQuery): ProductSearchResult {
    if (query.after && !cursorFitsSort(query.sort, query.after)) {
      // The use case checks this first (a 400); reaching here is a programming error, not a request to guess at.
      throw new RangeError(`The cursor position does not fit the sort "${query.sort}"`);
    }
    const textScores = textMatches(query.q);
    const statusShown = productStatuses.map((status) => query.statuses.includes(status));
    const tags = new Set(query.tags);
    const subtree = query.category?.subtree ? subtreeOf(query.category.id) : undefined;
    const directCategory = query.category && !query.category.subtree ? (categoryIds.find(query.category.id) ?? -1) : undefined;
    const priceMin = query.priceMin ?? -Infinity;
    const priceMax = query.priceMax ?? Infinity;

    // One filter per attribute name; each accepted (name, value) pair points at its filter.
    const attributeFilters = Object.entries(query.attributes).filter(([, values]) => values.length > 0);
    /** Pair id → 1 + the filter accepting it (0: none). */
    const filterOfPair = new Int32Array(attributePairs.size);
    const filterNameIds = attributeFilters.map(([name, values], filter) => {
      for (const value of values) {
        const pair = attributePairs.find(`${name}\u0000${value}`);
        if (pair !== undefined) filterOfPair[pair] = filter + 1;
      }
      return attributeNames.idOf(name);
    });
    /** Each attribute filter's column; undefined when no product has that attribute, or the name has no column. */
    const attributeColumns = filterNameIds.map((nameId) => columns.attributes.get(nameId));
    const uncolumned = filterNameIds.map((nameId) => columns.uncolumned.has(nameId));
    const { status: statusColumn, inStock: stockColumn, price: priceColumn, priceBucket } = columns;
    const { firstCategory, secondCategory, categoryCount } = columns;
    const inCategory = (category: number) => (subtree !== undefined ? subtree[category] === 1 : category === directCategory);
    // A tag no product ever carried cannot match: with none of the asked tags known, every candidate would be turned
    // away, so the pass is skipped (same empty result, facets all zero).
    const noTagCanMatch = tags.size > 0 && !query.tags.some((tag) => knownTags.has(tag));

    const categoryCounts = new Int32Array(categoryIds.size);
    const pairCounts = new Int32Array(attributePairs.size);
    const priceCounts = new Array<number>(priceBuckets.length).fill(0);

    const direction = query.order === 'asc' ? 1 : -1;
    const top = new TopCandidates(query.limit + 1, direction);
    const [afterValue, afterId] = query.after ?? [];
    let total = 0;

    // The entry is read for the direct categories of a product filed under more than two only.
    const isFiled = (internalId: number) => {
      const filedUnder = categoryCount[internalId] as number;
      if (filedUnder > 2) return (entryByInternalId[internalId] as Entry).categories.some(inCategory);
      return (
        (filedUnder > 0 && inCategory(firstCategory[internalId] as number)) ||
        (filedUnder > 1 && inCategory(secondCategory[internalId] as number))
      );
    };
    const countCategories = (internalId: number) => {
      const filedUnder = categoryCount[internalId] as number;
      if (filedUnder > 2) {
        for (const category of (entryByInternalId[internalId] as Entry).categories) categoryCounts[category] += 1;
        return;
      }
      if (filedUnder > 0) categoryCounts[firstCategory[internalId] as number] += 1;
      if (filedUnder > 1) categoryCounts[secondCategory[internalId] as number] += 1;
    };

    /**
     * Filters from the columns, and counts a candidate failing one faceted filter from them too. The entry is read for
     * a match (counted everywhere, maybe on the page), for tags, and for what has no column.
     */
    const consider = (internalId: number, score: number) => {
      const status = statusColumn[internalId];
      if (!status || !statusShown[status - 1]) return;
      if (query.inStock !== undefined && (stockColumn[internalId] === 1) !== query.inStock) return;
      let entry: Entry | undefined;
      if (tags.size > 0) {
        entry = entryByInternalId[internalId] as Entry;
        if (!hasAnyTag(entry.product.tags, tags)) return;
      }

      // Faceted filters: count the failures; a candidate failing exactly one counts towards that one's facet.
      let failures = 0;
      let failed = 0;
      /** The (name, value) pair the failed attribute filter read from its column; -1 when the product has none. */
      let failedPair = -1;
      if ((directCategory !== undefined || subtree !== undefined) && !isFiled(internalId)) {
        failures += 1;
        failed = facetFilter.category;
      }
      const price = priceColumn[internalId] as number;
      if (price < priceMin || price > priceMax) {
        failures += 1;
        failed = facetFilter.price;
      }
      if (failures > 1) return;
      // A product has at most one value per attribute name, so each filter is decided by one column read.
      for (let filter = 0; filter < attributeColumns.length; filter += 1) {
        let pair = -1;
        if (uncolumned[filter]) {
          entry ??= entryByInternalId[internalId] as Entry;
          if (entry.attributePairs.some((held) => filterOfPair[held] === filter + 1)) continue;
        } else {
          pair = (attributeColumns[filter]?.[internalId] ?? 0) - 1;
          if (pair >= 0 && filterOfPair[pair] === filter + 1) continue;
        }
        failures += 1;
        if (failures > 1) return;
        failed = filter;
        failedPair = pair;
      }

      if (failures === 1) {
        if (failed === facetFilter.category) countCategories(internalId);
        else if (failed === facetFilter.price) priceCounts[priceBucket[internalId] as number] += 1;
        else if (uncolumned[failed]) {
          const nameId = filterNameIds[failed];
          entry ??= entryByInternalId[internalId] as Entry;
          for (const pair of entry.attributePairs) if (pairName[pair] === nameId) pairCounts[pair] += 1;
        } else if (failedPair >= 0) pairCounts[failedPair] += 1;
        return;
      }

      entry ??= entryByInternalId[internalId] as Entry;
      total += 1;
      countCategories(internalId);
      priceCounts[entry.priceBucket] += 1;
      for (const pair of entry.attributePairs) pairCounts[pair] += 1;

      const value = sortValueOf(query.sort, entry, score);
      if (afterId !== undefined && direction * compareKeys(value, entry.id, afterValue as CursorValue, afterId) <= 0) return;
      top.offer(entry, value);
    };

    if (noTagCanMatch) {
      // Every candidate would be turned away by its tags: nothing to walk, the counts stay zero.
    } else if (textScores) {
      // A number whose product is gone has status 0 in the columns and is turned away first.
      for (let at = 0; at < textScores.size; at += 1) {
        const internalId = textScores.ids[at] as number;
        consider(internalId, textScores.scoreOf(internalId));
      }
    } else {
      // Every number Orama gave out, in order: the status column turns away one with no product without an entry read,
      // where walking the entries map would read every entry first.
      for (let internalId = 0; internalId < entryByInternalId.length; internalId += 1) consider(internalId, 0);
    }

    const page = top.items.slice(0, query.limit);
    const last = page.at(-1);
    const result: ProductSearchResult = {
      items: page.map((candidate) => candidate.entry.product),
      total,
      facets: facetsOf(query, categoryCounts, pairCounts, priceCounts),
    };
    if (top.items.length > query.limit && last) result.next = [last.value, last.entry.id];
    return result;
  }

  function facetsOf(
    query: ProductSearchQuery,
    categoryCounts: Int32Array,
    pairCounts: Int32Array,
    priceCounts: number[],
  ): ProductFacets {
    const categories: Record<string, number> = {};
    categoryCounts.forEach((counted, category) => {
      if (counted > 0) categories[categoryIds.names[category] as string] = counted;
    });

    const valuesByName = new Map<string, Array<[string, number]>>();
    pairCounts.forEach((counted, pair) => {
      if (counted === 0) return;
      const key = attributePairs.names[pair] as string;
      const separator = key.indexOf('\u0000');
      const name = key.slice(0, separator);
      let values = valuesByName.get(name);
      if (!values) valuesByName.set(name, (values = []));
      values.push([key.slice(separator + 1), counted]);
    });
    const attributes: Record<string, Record<string, number>> = {};
    for (const [name, values] of [...valuesByName].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const selected = new Set(query.attributes[name] ?? []);
      values.sort(([valueA, countA], [valueB, countB]) => countB - countA || (valueA < valueB ? -1 : 1));
      const shown = values.filter(([value], rank) => rank < attributeFacetValues || selected.has(value));
      attributes[name] = Object.fromEntries(shown);
    }

    const price: PriceBucket[] = priceBuckets.map((min, bucket) => {
      const max = priceBuckets[bucket + 1];
      return max === undefined ? { min, count: priceCounts[bucket] as number } : { min, max, count: priceCounts[bucket] as number };
    });
    return { categories, attributes, price };
  }

  return {
    upsert(product) {
      if (isStale(product.id, product.version)) return false;
      const previous = entries.get(product.id);
      if (previous) synchronous(remove(db, product.id));
      synchronous(insert(db, textDocumentOf(product)));
      const entry = entryOf(product);
      file(entry);
      if (previous && previous.internalId !== entry.internalId) {
        entryByInternalId[previous.internalId] = undefined;
        columns.forget(previous.internalId);
      }
      return true;
    },

    remove(id, version) {
      deletedAt.set(id, Math.max(version, deletedAt.get(id) ?? 0));
      const entry = entries.get(id);
      if (!entry || entry.product.version > version) return false;
      synchronous(remove(db, id));
      entries.delete(id);
      entryByInternalId[entry.internalId] = undefined;
      columns.forget(entry.internalId);
      return true;
    },

    placeCategory(categoryId, ancestors) {
      const place = ancestors.filter((ancestor) => ancestor !== categoryId);
      ancestorsOf.set(categoryId, place);
      // Categories below the moved one carry its old path above it: give them the new one, so a subtree search sees
      // the whole moved branch at once even before (or without) an event for each descendant.
      for (const [descendant, path] of ancestorsOf) {
        const at = path.indexOf(categoryId);
        if (at >= 0) ancestorsOf.set(descendant, [...place, ...path.slice(at)]);
      }
      // Products are filed by their direct categories only; the subtree a filter reaches is derived from the tree at
      // search time, so clearing the derived subtrees re-files every product under the moved branch.
      subtrees.clear();
    },

    forgetCategory(categoryId) {
      ancestorsOf.delete(categoryId);
      subtrees.clear();
    },

    search,

    get size() {
      return entries.size;
    },
  };
}

function hasAnyTag(tags: readonly string[], wanted: ReadonlySet<string>): boolean {
  for (const tag of tags) if (wanted.has(tag)) return true;
  return false;
}

function sortValueOf(sort: ProductSort, entry: Entry, score: number): number | string {
  switch (sort) {
    case 'price':
      return entry.price;
    case 'name':
      return entry.nameKey;
    case 'newest':
      return entry.createdAt;
    case 'relevance':
      return score;
  }
}

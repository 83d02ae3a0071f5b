import { createHash } from 'node:crypto';
import { components, create, insert, insertMultiple, remove, type Tokenizer } from '@orama/orama';
import type { radix } from '@orama/orama/trees';
import { AppError, decodeCursor, encodeCursor, type CursorValue, type Page } from '@mercato/platform';
import {
  defaultRadiusKm,
  earthRadiusKm,
  type GeoPoint,
  type Meme,
  type MemeSearchHit,
  type MemeSearchQuery,
} from '../domain/meme-schema';

/**
 * The memes search index: every meme in this replica's memory, answering `GET /memes`. It sits in data-access beside
 * the repository because it is the read side of the same data (loaded from MongoDB at start-up, kept current with
 * `upsert`/`remove`), as the products index is; it does no I/O itself.
 *
 * Orama (`@orama/orama`, as products uses it) keeps what is tedious to keep right under inserts and removes: a radix
 * tree of words per field (caption, base name) with each word's memes, and each meme's field lengths. Its default
 * tokenizer is replaced (it splits on anything but `A-Za-z`, six accented letters, digits, `_ ' -`: Cyrillic text gives
 * no word at all and "niño" gives "ni" and "o"; tested), and its search is not used: the words are looked up in its
 * trees here, and the score is computed here from the meme alone (see `Ranking`), so that a page's cursor stays valid
 * while memes are added — BM25's collection statistics would move every score with each insert.
 *
 * ## Words
 * Lower-cased, then NFKD (canonical and compatibility decomposition: "ﬁ" is "fi", full-width letters are letters),
 * combining marks removed ("café" → "cafe", "NIÑO" → "nino", Russian "ё" → "е" and "й" → "и"), then runs of `\p{L}\p{N}`.
 * Words joined by an apostrophe are indexed as their parts and joined ("don't" → "don", "t", "dont"); a query word
 * with an apostrophe is looked up joined, so "dont" and "don't" find both spellings.
 *
 * ## Matching
 * Every query word must match (in the caption or the base name), as typed or as the start of a longer word (words of
 * two characters or more; a one-letter prefix would match every word with that first letter). With `fuzzy`, a word also
 * matches words within its edit budget by length (1 edit for 3–5 characters, 2 from 6, none below; an edit is an
 * insertion, deletion, substitution or a swap of two neighbours, so "grumyp" is 1 edit from "grumpy"). The typo lookup
 * walks Orama's radix tree carrying the edit-distance rows and leaves a branch as soon as no word below it can come
 * back within the budget; it never compares the query with every meme or every word. (Orama's own tolerant lookup is
 * not used: it counts every word the query word starts as within the tolerance, with distance 0, so a typo match could
 * not be told from a prefix match, and it has no swaps.)
 *
 * ## Ranking (the order of a page, a total order)
 *   1. with lat/lon: memes within `radiusKm` first, nearest first; every other meme (farther, or without a location)
 *      after them, by the rules below. Geo ranks, it does not filter: a text search near a city still finds its memes
 *      elsewhere, after the near ones. Every meme with a location carries `distanceKm` in a geo search;
 *   2. memes that needed fewer typo-matched words first: any meme whose every word matched exactly or as a prefix ranks
 *      above every meme that needed a typo;
 *   3. score, higher first: per query word, its best match over the fields, weighted by the kind of match (exact 1,
 *      prefix 0.5–0.9 by how much of the word was typed, typo 0.4 for one edit and 0.2 for two), the field (caption 2, base name 1) and the
 *      field's shortness (1 / (1 + 0.1 × (words − 1))); summed over the query's words. It depends on the meme and the
 *      query only, never on the other memes;
 *   4. newest first, then the id (ascending), so no two memes tie.
 * Without `query` every meme matches with score 0 (a listing, newest first), narrowed by `base`, ordered by distance
 * with lat/lon.
 *
 * ## Paging
 * Keyset: the cursor holds the last meme's ranking key and the page after it starts strictly after that key. Because
 * every part of the key is a function of the meme and the query alone, the memes that existed when the first page was
 * read are each seen exactly once, in order, whatever is added or removed between pages; a meme added behind the
 * cursor's position is not seen by that paging (it is by a new search), and a meme replaced between pages with other
 * words (`upsert` of an existing id) may move to a page already read or still ahead. The cursor also holds a fingerprint of the
 * query (normalised words, fuzzy, base, lat, lon, radius), so a cursor used with another query is refused, not read.
 */

export interface MemeSearchIndex {
  /**
   * Adds a meme, or replaces the one with its id; false when the same meme is indexed already (nothing to do: an
   * import that runs again, or a poll that sees a meme twice, costs a comparison instead of a re-index).
   */
  upsert(meme: Meme): boolean;
  /** Forgets a meme; false when it was not indexed. */
  remove(id: string): boolean;
  get(id: string): Meme | undefined;
  /** Whether some meme has this base meme (compared as `base` is in a search). */
  hasBase(baseName: string): boolean;
  /**
   * One page of results. Throws a 400 `AppError` for a cursor that is not this index's, or was issued for another
   * query, and for a `base` no meme has (the issue's "unknown base").
   */
  search(query: MemeSearchQuery): Page<MemeSearchHit>;
  readonly size: number;
}

const searchedFields = ['caption', 'base'] as const;
type SearchedField = (typeof searchedFields)[number];
const fieldBoost: Record<SearchedField, number> = { caption: 2, base: 1 };
const oramaSchema = { caption: 'string', base: 'string' } as const;

const wordGroups = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;
const apostrophes = /['’]/;

/** Lower case, compatibility-decomposed, combining marks removed (see "Words" above). */
export function foldText(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '');
}

/** The words a meme's field is indexed under: each group's parts, and a group joined by apostrophes joined too. */
export function indexedWordsOf(text: string): string[] {
  const words = new Set<string>();
  for (const [group] of foldText(text).matchAll(wordGroups)) {
    const parts = group.split(apostrophes);
    for (const part of parts) words.add(part);
    if (parts.length > 1) words.add(parts.join(''));
  }
  return [...words];
}

/** The words of a query, each looked up once, in the order typed; a group joined by apostrophes is one word. */
export function queryWordsOf(text: string): string[] {
  const words = new Set<string>();
  for (const [group] of foldText(text).matchAll(wordGroups)) words.add(group.split(apostrophes).join(''));
  return [...words];
}

/** How a base meme name is compared: its words, space-separated ("See? Nobody Cares" is "see nobody cares"). */
export const baseKeyOf = (baseName: string): string => queryWordsOf(baseName).join(' ');

/** Edits a query word may be away from an indexed word with `fuzzy` (Elasticsearch's `fuzziness: AUTO`). */
export function typoBudgetOf(word: string): number {
  const length = word.length;
  if (length <= 2) return 0;
  return length <= 5 ? 1 : 2;
}

const prefixMinimum = 2;

/** Great-circle distance in km (haversine, on a sphere of the Earth's mean radius). */
export function distanceKm(from: GeoPoint, to: GeoPoint): number {
  const toRadians = Math.PI / 180;
  const dLat = (to.lat - from.lat) * toRadians;
  const dLon = (to.lon - from.lon) * toRadians;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(from.lat * toRadians) * Math.cos(to.lat * toRadians) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusKm * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The words of a radix tree within `budget` edits of `term` (optimal string alignment: insertions, deletions,
 * substitutions and swaps of two neighbouring characters, each 1), with their memes and distance. Walks the tree
 * depth first computing one row (its band) of the distance table per character of the tree's words (a row per depth,
 * reused, so the walk allocates nothing per node); a row's minimum never decreases further down, so a branch whose row is all
 * above the budget is left. It visits only prefixes that can still end within the budget, never every word.
 */
function wordsWithinEdits(root: radix.RadixNode, term: string, budget: number): Array<[string, Set<number>, number]> {
  const found: Array<[string, Set<number>, number]> = [];
  const width = term.length + 1;
  const rows: Int32Array[] = [Int32Array.from({ length: width }, (_, at) => at)];
  const rowAt = (depth: number) => (rows[depth] ??= new Int32Array(width));

  /**
   * Fills the row of `depth` (the word's character `depth - 1`); false when every entry is above the budget. Only the
   * band of columns within `budget` of the diagonal can be within the budget, so only it is computed (a 200-letter
   * query word costs five cells a character, not 200); the cell on each side of the band holds `beyond`.
   */
  const beyond = budget + 1;
  const fill = (word: string, depth: number): boolean => {
    const row = rowAt(depth);
    const previous = rows[depth - 1] as Int32Array;
    const beforeThat = depth >= 2 ? rows[depth - 2] : undefined;
    const character = word[depth - 1];
    const characterBefore = word[depth - 2];
    const first = Math.max(1, depth - budget);
    const last = Math.min(term.length, depth + budget);
    row[0] = depth;
    if (first > 1) row[first - 1] = beyond;
    if (last + 1 < width) row[last + 1] = beyond;
    let smallest = depth;
    for (let at = first; at <= last; at += 1) {
      const substitution = (previous[at - 1] as number) + (term[at - 1] === character ? 0 : 1);
      let distance = Math.min((row[at - 1] as number) + 1, (previous[at] as number) + 1, substitution);
      if (beforeThat && at > 1 && term[at - 1] === characterBefore && term[at - 2] === character) {
        distance = Math.min(distance, (beforeThat[at - 2] as number) + 1);
      }
      row[at] = distance;
      if (distance < smallest) smallest = distance;
    }
    return smallest <= budget;
  };

  const descend = (node: radix.RadixNode) => {
    for (const child of node.c.values()) {
      const word = child.w;
      let alive = true;
      for (let depth = word.length - child.s.length + 1; alive && depth <= word.length; depth += 1) alive = fill(word, depth);
      if (!alive) continue;
      // The last column is only computed (and so only meaningful) within the band: lengths at most `budget` apart.
      const distance = Math.abs(word.length - term.length) <= budget ? ((rows[word.length] as Int32Array)[term.length] as number) : beyond;
      if (child.e && distance <= budget && child.d.size > 0) found.push([word, child.d as Set<number>, distance]);
      descend(child);
    }
  };
  descend(root);
  return found;
}

function synchronous<T>(result: T | Promise<T>): T {
  // Orama's default components are synchronous; a Promise means a plugin made it asynchronous, which we do not expect.
  if (result instanceof Promise) throw new Error('Orama answered asynchronously; the memes index expects its synchronous components');
  return result;
}

/** Orama's tokenizer interface over `indexedWordsOf`. Orama's normalisation cache is not needed: folding is cheap. */
const memeTokenizer: Tokenizer = {
  language: 'english',
  normalizationCache: new Map(),
  tokenize: (raw: string) => indexedWordsOf(raw),
};

type OramaIndex = components.index.Index;
type DocumentID = components.internalDocumentIDStore.DocumentID;

/**
 * Orama's index keeping only what this index reads besides the trees: each field's length per meme. Orama's default
 * also keeps BM25's statistics, among them a per-meme object keyed by that meme's words (V8 gives nearly each its own
 * hidden class), which were most of the start-up time and garbage; the score here needs none of them (see "Ranking").
 */
function lengthsOnlyIndex() {
  const index = components.index.createIndex();
  const internalIdOf = (data: OramaIndex, id: DocumentID) =>
    components.internalDocumentIDStore.getInternalDocumentId(data.sharedInternalDocumentStore, id);
  return {
    ...index,
    insertDocumentScoreParameters(data: OramaIndex, prop: string, id: DocumentID, tokens: string[]) {
      (data.fieldLengths[prop] as Record<number, number | undefined>)[internalIdOf(data, id)] = tokens.length;
    },
    insertTokenScoreParameters() {},
    removeDocumentScoreParameters(data: OramaIndex, prop: string, id: DocumentID) {
      (data.fieldLengths[prop] as Record<number, number | undefined>)[internalIdOf(data, id)] = undefined;
    },
    removeTokenScoreParameters() {},
  };
}

interface Entry {
  meme: Meme;
  internalId: number;
  baseKey: string;
  createdAtMs: number;
}

/** How one query word matched one meme: its best match, and whether that needed a typo. */
interface WordHit {
  score: number;
  typo: boolean;
}

/** The ranking key (see "Ranking"); the cursor carries it after the query's fingerprint. */
interface RankKey {
  /** 0: within the radius; 1: everything else (and every meme without lat/lon in the query). */
  band: number;
  /** Within the radius, the distance in km; else 0. */
  nearness: number;
  typos: number;
  score: number;
  createdAtMs: number;
  id: string;
}

function compareKeys(a: RankKey, b: RankKey): number {
  if (a.band !== b.band) return a.band - b.band;
  if (a.nearness !== b.nearness) return a.nearness < b.nearness ? -1 : 1;
  if (a.typos !== b.typos) return a.typos - b.typos;
  if (a.score !== b.score) return a.score > b.score ? -1 : 1;
  if (a.createdAtMs !== b.createdAtMs) return b.createdAtMs - a.createdAtMs;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

const cursorArity = 7;

const invalidCursor = (message: string) =>
  new AppError('validation', {
    code: 'invalid-cursor',
    detail: 'The cursor does not belong to this search; start again without a cursor',
    issues: [{ path: 'query.cursor', message }],
  });

function keyOfCursor(cursor: string, fingerprint: string): RankKey {
  const [issuedFor, band, nearness, typos, score, createdAtMs, id] = decodeCursor(cursor, cursorArity);
  if (issuedFor !== fingerprint) throw invalidCursor('was issued for another search');
  const numbers = [band, nearness, typos, score, createdAtMs];
  if (!numbers.every((value) => typeof value === 'number') || typeof id !== 'string') throw invalidCursor('is malformed');
  return { band, nearness, typos, score, createdAtMs, id } as RankKey;
}

const cursorOf = (fingerprint: string, key: RankKey): string =>
  encodeCursor([fingerprint, key.band, key.nearness, key.typos, key.score, key.createdAtMs, key.id] satisfies CursorValue[]);

/** Keeps the `capacity` smallest keys offered, sorted; a key that cannot make the page costs one comparison. */
function keepFirst(capacity: number) {
  const kept: Array<{ key: RankKey; entry: Entry }> = [];
  return {
    kept,
    offer(key: RankKey, entry: Entry) {
      if (kept.length === capacity && compareKeys(key, (kept[capacity - 1] as { key: RankKey }).key) >= 0) return;
      let low = 0;
      let high = kept.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (compareKeys((kept[middle] as { key: RankKey }).key, key) < 0) low = middle + 1;
        else high = middle;
      }
      kept.splice(low, 0, { key, entry });
      if (kept.length > capacity) kept.pop();
    },
  };
}

const sameMeme = (a: Meme, b: Meme) =>
  a.baseName === b.baseName &&
  a.upperText === b.upperText &&
  a.lowerText === b.lowerText &&
  a.source === b.source &&
  a.createdAt === b.createdAt &&
  a.location?.lat === b.location?.lat &&
  a.location?.lon === b.location?.lon;

const roundKm = (km: number) => Math.round(km * 1000) / 1000;

export function createMemeSearchIndex(memes: Iterable<Meme> = []): MemeSearchIndex {
  const db = create({ schema: oramaSchema, sort: { enabled: false }, components: { tokenizer: memeTokenizer, index: lengthsOnlyIndex() } });
  const entries = new Map<string, Entry>();
  const entryByInternalId: Array<Entry | undefined> = [];
  /** Memes per base key, so an unknown base is told apart from a known one with no match. */
  const basesInUse = new Map<string, number>();

  const textOf = (meme: Meme) => ({ id: meme.id, caption: `${meme.upperText}\n${meme.lowerText}`, base: meme.baseName });

  const file = (meme: Meme) => {
    const entry: Entry = {
      meme,
      internalId: components.internalDocumentIDStore.getInternalDocumentId(db.internalDocumentIDStore, meme.id),
      baseKey: baseKeyOf(meme.baseName),
      createdAtMs: Date.parse(meme.createdAt),
    };
    entries.set(meme.id, entry);
    entryByInternalId[entry.internalId] = entry;
    basesInUse.set(entry.baseKey, (basesInUse.get(entry.baseKey) ?? 0) + 1);
  };

  const unfile = (entry: Entry) => {
    synchronous(remove(db, entry.meme.id));
    entries.delete(entry.meme.id);
    entryByInternalId[entry.internalId] = undefined;
    const left = (basesInUse.get(entry.baseKey) ?? 1) - 1;
    if (left > 0) basesInUse.set(entry.baseKey, left);
    else basesInUse.delete(entry.baseKey);
  };

  // The start-up load goes in one insertMultiple (a meme listed twice: the last one wins, as with upserts).
  const initial = new Map<string, Meme>();
  for (const meme of memes) initial.set(meme.id, meme);
  synchronous(insertMultiple(db, [...initial.values()].map(textOf), 1000));
  for (const meme of initial.values()) file(meme);

  /** How each meme holding `word` matched it, best match over fields and kinds (a typo-free match always wins). */
  function hitsOf(word: string, fuzzy: boolean): Map<number, WordHit> {
    const hits = new Map<number, WordHit>();
    const record = (internalId: number, score: number, typo: boolean) => {
      const known = hits.get(internalId);
      if (known && (known.typo === typo ? known.score >= score : typo)) return;
      hits.set(internalId, { score, typo });
    };
    const prefixAllowed = word.length >= prefixMinimum;
    const budget = fuzzy ? typoBudgetOf(word) : 0;
    for (const field of searchedFields) {
      const tree = db.data.index.indexes[field];
      if (tree?.type !== 'Radix') continue;
      const lengths = db.data.index.fieldLengths[field] as Record<number, number | undefined>;
      const weigh = (internalId: number, kindWeight: number) =>
        kindWeight * fieldBoost[field] * (1 / (1 + 0.1 * ((lengths[internalId] ?? 1) - 1)));

      const asTyped = tree.node.find({ term: word, exact: !prefixAllowed, tolerance: 0 });
      for (const [matched, holders] of Object.entries(asTyped)) {
        const kindWeight = matched === word ? 1 : 0.5 + (0.4 * word.length) / matched.length;
        for (const internalId of holders as number[]) record(internalId, weigh(internalId, kindWeight), false);
      }
      if (budget === 0) continue;
      for (const [matched, holders, edits] of wordsWithinEdits(tree.node, word, budget)) {
        if (matched === word || (prefixAllowed && matched.startsWith(word))) continue;
        for (const internalId of holders) record(internalId, weigh(internalId, 0.4 / edits), true);
      }
    }
    return hits;
  }

  /** Memes holding every word, with the number of words that needed a typo and the summed score. */
  function textMatches(words: readonly string[], fuzzy: boolean): Map<number, { typos: number; score: number }> {
    let matches: Map<number, { typos: number; score: number }> | undefined;
    for (const word of words) {
      // Every word must match: once nothing is left, the other words (each a tree walk with fuzzy) cannot add any.
      if (matches?.size === 0) break;
      const hits = hitsOf(word, fuzzy);
      if (matches === undefined) {
        matches = new Map();
        for (const [internalId, hit] of hits) matches.set(internalId, { typos: hit.typo ? 1 : 0, score: hit.score });
        continue;
      }
      for (const [internalId, match] of matches) {
        const hit = hits.get(internalId);
        if (!hit) {
          matches.delete(internalId);
          continue;
        }
        match.score += hit.score;
        if (hit.typo) match.typos += 1;
      }
    }
    return matches ?? new Map();
  }

  function search(query: MemeSearchQuery): Page<MemeSearchHit> {
    const words = query.query === undefined ? [] : queryWordsOf(query.query);
    const fuzzy = query.fuzzy === 'true';
    const baseKey = query.base === undefined ? undefined : baseKeyOf(query.base);
    if (baseKey !== undefined && !basesInUse.has(baseKey)) {
      throw new AppError('validation', {
        code: 'unknown-base',
        detail: 'No meme has this base meme',
        issues: [{ path: 'query.base', message: 'is not the base meme of any meme' }],
      });
    }
    const point = query.lat !== undefined && query.lon !== undefined ? { lat: query.lat, lon: query.lon } : undefined;
    const radiusKm = query.radiusKm ?? defaultRadiusKm;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([words, fuzzy, baseKey ?? null, point?.lat ?? null, point?.lon ?? null, point ? radiusKm : null]))
      .digest('base64url')
      .slice(0, 16);
    const after = query.cursor ? keyOfCursor(query.cursor, fingerprint) : undefined;

    const page = keepFirst(query.limit + 1);
    let total = 0;
    const consider = (entry: Entry, typos: number, score: number) => {
      if (baseKey !== undefined && entry.baseKey !== baseKey) return;
      total += 1;
      let band = 1;
      let nearness = 0;
      if (point && entry.meme.location) {
        const km = distanceKm(point, entry.meme.location);
        if (km <= radiusKm) {
          band = 0;
          nearness = km;
        }
      }
      const key: RankKey = { band, nearness, typos, score, createdAtMs: entry.createdAtMs, id: entry.meme.id };
      if (after && compareKeys(key, after) <= 0) return;
      page.offer(key, entry);
    };

    if (words.length > 0) {
      for (const [internalId, match] of textMatches(words, fuzzy)) {
        const entry = entryByInternalId[internalId];
        if (entry) consider(entry, match.typos, match.score);
      }
    } else {
      for (const entry of entries.values()) consider(entry, 0, 0);
    }

    const shown = page.kept.slice(0, query.limit);
    const last = shown.at(-1);
    const result: Page<MemeSearchHit> = {
      items: shown.map(({ entry: { meme } }) =>
        point && meme.location ? { ...meme, distanceKm: roundKm(distanceKm(point, meme.location)) } : meme,
      ),
      nextCursor: page.kept.length > query.limit && last ? cursorOf(fingerprint, last.key) : null,
    };
    if (query.total === 'true') result.total = total;
    return result;
  }

  return {
    upsert(meme) {
      const previous = entries.get(meme.id);
      if (previous && sameMeme(previous.meme, meme)) return false;
      if (previous) unfile(previous);
      synchronous(insert(db, textOf(meme)));
      file(meme);
      return true;
    },
    remove(id) {
      const entry = entries.get(id);
      if (!entry) return false;
      unfile(entry);
      return true;
    },
    get: (id) => entries.get(id)?.meme,
    hasBase: (baseName) => basesInUse.has(baseKeyOf(baseName)),
    search,
    get size() {
      return entries.size;
    },
  };
}

import { randomUUID } from 'node:crypto';
import { activityQueryLimits, AppError, type ActivityReporter, type Page, type UserActivityClient, type UserActivityStats } from '@mercato/platform';
import type { MemeRepository } from '../data-access/meme-repository';
import { queryWordsOf, type MemeSearchIndex } from '../data-access/meme-search-index';
import type { CaptionGenerator, GeneratedCaption } from './caption-generator';
import { withDemoLocation } from './demo-locations';
import { memeFromCorpusRecord, type CorpusRecord, type Meme, type MemeSearchHit, type MemeSearchQuery, type NewMeme } from './meme-schema';

/** Who searches: their `sub` (their actor's id) and whether the token holds `premium`. */
export interface Searcher {
  subject: string;
  premium: boolean;
}

/** A generated meme in a premium result page: marked, never stored. */
export type GeneratedMeme = GeneratedCaption & { id: string };
export type SearchItem = (MemeSearchHit & { generated: false }) | GeneratedMeme;

export interface MemeUseCases {
  /** Takes one search from the searcher's per-minute quota first (exact, on their actor): 429 past it. */
  search(query: MemeSearchQuery, searcher: Searcher): Promise<Page<SearchItem>>;
  get(id: string): Promise<Meme>;
  create(input: NewMeme): Promise<Meme>;
  /** Stores the corpus lines not stored yet (with their demo locations); running it again changes nothing. */
  importCorpus(records: CorpusRecord[]): Promise<{ received: number; created: number; skipped: number }>;
  /** Fresh captions for a base meme (premium only: the route checks the role). */
  generate(baseName: string, count: number): GeneratedMeme[];
  stats(subject: string): Promise<UserActivityStats>;
}

/** The service name quota counts are kept under on the actor. */
export const searchQuotaService = 'memes-search';

/**
 * How a search's text is counted in the person's stats: its words as the index reads them (case, accents and
 * punctuation folded: "Café, NIÑO!" is "cafe nino"), so spellings of one query count as one; whole words up to the
 * actor's text limit. The person's own words only, kept on their own actor.
 */
export function countedQueryText(text: string): string {
  let counted = '';
  for (const word of queryWordsOf(text)) {
    const longer = counted ? `${counted} ${word}` : word;
    if (longer.length > activityQueryLimits.textMaxLength) break;
    counted = longer;
  }
  // One word longer than the limit: its start, without half a surrogate pair.
  return counted || (queryWordsOf(text)[0] ?? '').slice(0, activityQueryLimits.textMaxLength).replace(/[\uD800-\uDBFF]$/, '');
}

/** Imported memes carry this creation time: fixed, so an import run again writes nothing new. */
export const corpusCreatedAt = '2016-01-01T00:00:00.000Z';

export function createMemeUseCases(deps: {
  repository: MemeRepository;
  index: MemeSearchIndex;
  generator: CaptionGenerator;
  activity: UserActivityClient;
  /** Where a served search's text goes (to the person's actor, off the request path); absent when nothing is reported. */
  searches?: Pick<ActivityReporter, 'recordQuery'>;
  /** `quotaChecked: false` only to measure what the quota costs (config MEMES_SEARCH_QUOTA). */
  limits: { freePerMinute: number; premiumPerMinute: number; generatedPerPage: number; quotaChecked?: boolean };
}): MemeUseCases {
  const { repository, index, generator, activity, searches, limits } = deps;

  const unknownBase = (baseName: string) =>
    new AppError('validation', {
      code: 'unknown-base',
      detail: `No meme has the base "${baseName}"`,
      issues: [{ path: 'query.base', message: 'is no base meme of the corpus' }],
    });

  function generate(baseName: string, count: number): GeneratedMeme[] {
    const captions = generator.generate(baseName, count);
    if (!captions) throw unknownBase(baseName);
    return captions.map((caption) => ({ ...caption, id: `generated-${randomUUID()}` }));
  }

  return {
    async search(query, searcher) {
      if (limits.quotaChecked !== false) {
        const limit = searcher.premium ? limits.premiumPerMinute : limits.freePerMinute;
        const quota = await activity.consume(searcher.subject, { service: searchQuotaService, limit });
        if (!quota.allowed) {
          throw new AppError('too-many-requests', {
            code: 'search-quota-exceeded',
            detail: `${limit} searches a minute is your quota${searcher.premium ? '' : ' (premium has more)'}; try again in ${quota.retryAfterSeconds} s`,
            retryAfterSeconds: Math.max(1, quota.retryAfterSeconds),
          });
        }
      }
      const page = index.search(query);
      // A query is counted once, when its first page is served: a later page (cursor) is the same search read on.
      if (query.query && !query.cursor) searches?.recordQuery(searcher.subject, countedQueryText(query.query));
      const items: SearchItem[] = page.items.map((hit) => ({ ...hit, generated: false as const }));
      // Premium pages carry a few generated memes for the base of the best hit, after it: never stored, never paged.
      const best = page.items[0];
      if (searcher.premium && limits.generatedPerPage > 0 && best && !query.cursor) {
        const extra = generator.generate(best.baseName, limits.generatedPerPage) ?? [];
        items.splice(1, 0, ...extra.map((caption) => ({ ...caption, id: `generated-${randomUUID()}` })));
      }
      return { ...page, items };
    },

    async get(id) {
      const meme = index.get(id) ?? (await repository.findById(id));
      if (!meme) throw new AppError('not-found', { code: 'meme-not-found', detail: `No meme has the id ${id}` });
      return meme;
    },

    async create(input) {
      const meme: Meme = { id: randomUUID(), ...input, source: 'created', createdAt: new Date().toISOString() };
      await repository.insertNew([meme]);
      index.upsert(meme);
      return meme;
    },

    async importCorpus(records) {
      const memes = records.flatMap((record) => {
        const meme = memeFromCorpusRecord(record, corpusCreatedAt);
        return meme ? [withDemoLocation(meme)] : [];
      });
      const created = await repository.insertNew(memes);
      for (const meme of memes) index.upsert(meme);
      return { received: records.length, created, skipped: records.length - created };
    },

    generate,

    stats: (subject) => activity.stats(subject),
  };
}

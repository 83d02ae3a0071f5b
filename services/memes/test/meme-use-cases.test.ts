import { activityQueryLimits, AppError, type UserActivityClient } from '@mercato/platform';
import type { MemeRepository } from '../src/data-access/meme-repository';
import { createMemeSearchIndex } from '../src/data-access/meme-search-index';
import { createCaptionGenerator } from '../src/domain/caption-generator';
import type { Meme, MemeSearchQuery } from '../src/domain/meme-schema';
import { countedQueryText, createMemeUseCases } from '../src/domain/meme-use-cases';

const meme = (id: string, upperText: string): Meme => ({
  id,
  baseName: 'Grumpy Cat',
  upperText,
  lowerText: '',
  source: 'created',
  createdAt: '2026-11-22T10:00:00.000Z',
});

/** The search use case with an actor that allows `allowed` searches, recording the texts it would report. */
function searchWith(allowed: number, quotaChecked = true) {
  const recorded: Array<[string, string]> = [];
  let consumed = 0;
  const activity: UserActivityClient = {
    report: () => Promise.reject(new Error('unused')),
    consume: async () => {
      consumed += 1;
      return consumed <= allowed ? { allowed: true, remaining: allowed - consumed, retryAfterSeconds: 0 } : { allowed: false, remaining: 0, retryAfterSeconds: 30 };
    },
    stats: () => Promise.reject(new Error('unused')),
  };
  const useCases = createMemeUseCases({
    repository: {} as MemeRepository,
    index: createMemeSearchIndex([meme('1', 'café crème'), meme('2', 'café noir'), meme('3', 'no coffee')]),
    generator: createCaptionGenerator([], { seed: 1 }),
    activity,
    searches: { recordQuery: (subject, text) => recorded.push([subject, text]) },
    limits: { freePerMinute: 30, premiumPerMinute: 600, generatedPerPage: 0, quotaChecked },
  });
  const search = (query: MemeSearchQuery) => useCases.search(query, { subject: 'person-1', premium: false });
  return { search, recorded, consumed: () => consumed };
}

describe('what a search counts in the person\'s stats', () => {
  it('when a query is counted, then its words are folded as the index reads them, so spellings of one query count as one', () => {
    expect(countedQueryText('  Café, CRÈME!! ')).toBe('cafe creme');
    expect(countedQueryText('cafe creme')).toBe('cafe creme');
    expect(countedQueryText('ПРИВЕТ мир')).toBe('привет мир');
  });

  it('when a query is longer than the actor takes, then whole words up to the limit are counted', () => {
    const words = Array.from({ length: 30 }, (_, i) => `word${i}`);
    const counted = countedQueryText(words.join(' '));
    expect(counted.length).toBeLessThanOrEqual(activityQueryLimits.textMaxLength);
    expect(words.join(' ').startsWith(`${counted} `)).toBe(true);
    expect(countedQueryText('x'.repeat(150))).toBe('x'.repeat(activityQueryLimits.textMaxLength));
  });

  it('when a search with text is served, then its text is recorded once; a later page and a search without text are not', async () => {
    const { search, recorded } = searchWith(10);
    const first = await search({ query: 'Café', limit: 1 });
    expect(first.nextCursor).toBeTruthy();
    await search({ query: 'Café', limit: 1, cursor: first.nextCursor! });
    await search({ limit: 5 });
    expect(recorded).toEqual([['person-1', 'cafe']]);
  });

  it('when the quota refuses a search, then nothing is recorded', async () => {
    const { search, recorded } = searchWith(0);
    await expect(search({ query: 'cafe', limit: 5 })).rejects.toMatchObject({ status: 429, code: 'search-quota-exceeded' } satisfies Partial<AppError>);
    expect(recorded).toEqual([]);
  });

  it('when the quota is switched off (to measure its cost), then the actor is not asked and the search is still recorded', async () => {
    const { search, recorded, consumed } = searchWith(0, false);
    expect((await search({ query: 'noir', limit: 5 })).items).toHaveLength(1);
    expect(consumed()).toBe(0);
    expect(recorded).toEqual([['person-1', 'noir']]);
  });
});

import { randomUUID } from 'node:crypto';
import { api, eventually, fetchToken, loadDemoMemes, replicaApi, stackInfo, tokenFor } from '@mercato/devstack';
import { createUserActivityClient, type UserActivityStats } from '@mercato/platform';

interface Hit {
  id: string;
  baseName: string;
  upperText: string;
  lowerText: string;
  distanceKm?: number;
  generated: boolean;
}
interface Page {
  items: Hit[];
  nextCursor: string | null;
}
type Answer = Page & { type?: string; errors?: Array<{ path: string }> };

const search = async (query: string, role: 'editor' | 'viewer' | 'premium' | 'admin' = 'editor') =>
  api<Answer>('GET', `/api/memes?${query}`, { token: await tokenFor(role) });
const texts = (page: Page) => page.items.map((hit) => `${hit.baseName} | ${hit.upperText} | ${hit.lowerText}`.toLowerCase());

describe('memes through ingress → daprd (bearer) → app, with the quota on the caller\'s actor', () => {
  beforeAll(async () => {
    const { keycloakUrl, ingressUrl } = stackInfo();
    const admin = () => fetchToken(keycloakUrl, { username: 'admin', password: 'admin' });
    const first = await loadDemoMemes({ ingressUrl, token: admin });
    // Idempotent: a second import stores nothing new.
    const again = await loadDemoMemes({ ingressUrl, token: admin });
    expect(again.created).toBe(0);
    expect(first.created + first.skipped).toBe(again.skipped);
    // Both replicas hold the corpus (the other one picks imports up by its poll).
    for (const replica of [1, 2]) {
      await eventually(
        async () => (await replicaApi<Page>('memes', replica, 'GET', '/memes?query=courage&limit=1', { token: await tokenFor('admin') })).body,
        (page) => (page.items?.length ?? 0) > 0,
        30_000,
      );
    }
  });

  it('when a word is misspelt and fuzzy=true, then its meme is found; exact matches rank above fuzzy ones', async () => {
    const exact = await search('query=courage&limit=5');
    expect(exact.status).toBe(200);
    expect(texts(exact.body).every((text) => text.includes('courage'))).toBe(true);
    const typo = await search('query=couarge&fuzzy=true&limit=5');
    expect(typo.status).toBe(200);
    expect(texts(typo.body).some((text) => text.includes('courage'))).toBe(true);
    const mixed = await search('query=wolf&fuzzy=true&limit=50');
    const firstFuzzy = texts(mixed.body).findIndex((text) => !/\bwolf/.test(text));
    const lastExact = texts(mixed.body).map((text) => /\bwolf/.test(text)).lastIndexOf(true);
    if (firstFuzzy !== -1) expect(lastExact).toBeLessThan(firstFuzzy);
  });

  it('when the query is Russian, Spanish or written without accents, then the memes in that script are found', async () => {
    const russian = await search(`query=${encodeURIComponent('когда')}&limit=5`);
    expect(russian.body.items.length).toBeGreaterThan(0);
    expect(texts(russian.body).every((text) => text.includes('когда'))).toBe(true);
    const spanish = await search('query=mato&limit=5');
    expect(texts(spanish.body).some((text) => text.includes('te mato'))).toBe(true);
    const withoutAccent = await search('query=cafe&limit=20');
    const withAccent = await search(`query=${encodeURIComponent('café')}&limit=20`);
    expect(withoutAccent.body.items.map((hit) => hit.id)).toEqual(withAccent.body.items.map((hit) => hit.id));
  });

  it('when a search is paged, then no meme appears twice', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await search(`query=you&limit=20${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((hit) => hit.id));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(seen.length).toBeGreaterThan(20);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('when lat/lon are given, then memes within the radius come first, nearest first, each with its distance', async () => {
    const editor = await tokenFor('editor');
    const word = `geo${randomUUID().slice(0, 6)}`;
    const near = await api<Hit>('POST', '/api/memes', { token: editor, body: { baseName: 'Geo Test', upperText: `${word} near`, lowerText: '', location: { lat: 48.8584, lon: 2.2945 } } });
    const far = await api<Hit>('POST', '/api/memes', { token: editor, body: { baseName: 'Geo Test', upperText: `${word} far`, lowerText: '', location: { lat: 48.9, lon: 2.5 } } });
    expect(near.status).toBe(201);
    expect(far.status).toBe(201);
    // Made on one replica, found on both (the other polls): ask until both answer with both.
    const page = await eventually(
      () => search(`query=${word}&lat=48.8566&lon=2.3522&radiusKm=50`),
      (answer) => answer.body.items?.length === 2,
    );
    expect(page.body.items.map((hit) => hit.id)).toEqual([near.body.id, far.body.id]);
    expect(page.body.items[0]!.distanceKm!).toBeLessThan(page.body.items[1]!.distanceKm!);
    expect(page.body.items[0]!.distanceKm!).toBeGreaterThan(3);
  });

  it('when the input is bad, then 400 names the field', async () => {
    for (const [query, field] of [
      ['lat=10', 'query.lon'],
      ['lat=100&lon=0', 'query.lat'],
      ['lat=1&lon=1&radiusKm=0', 'query.radiusKm'],
      [`query=${'x'.repeat(1000)}`, 'query.query'],
      ['query=', 'query.query'],
      ['cursor=garbage', 'query.cursor'],
      ['base=No%20such%20base%20anywhere', 'query.base'],
    ] as const) {
      const answer = await search(query);
      expect([query, answer.status]).toEqual([query, 400]);
      expect(answer.body.errors?.map((issue) => issue.path)).toContain(field);
    }
  });

  it('when a free user searches past the quota, then 429 with Retry-After; a premium user is not refused yet', async () => {
    let refused: Awaited<ReturnType<typeof search>> | undefined;
    for (let n = 0; n < 150 && !refused; n += 1) {
      const answer = await search('query=cat&limit=1', 'viewer');
      if (answer.status === 429) refused = answer;
      else expect(answer.status).toBe(200);
    }
    expect(refused?.body.type).toBe('https://mercato.dev/problems/search-quota-exceeded');
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (let n = 0; n < 70; n += 1) expect((await search('query=cat&limit=1', 'premium')).status).toBe(200);
  });

  it('when a premium user searches, then generated memes are mixed in; /memes/ai gives captions to premium only', async () => {
    const premium = await search('query=courage&limit=5', 'premium');
    expect(premium.body.items.some((hit) => hit.generated)).toBe(true);
    const free = await search('query=courage&limit=5', 'editor');
    expect(free.body.items.some((hit) => hit.generated)).toBe(false);
    const ai = await api<{ items: Hit[] }>('GET', `/api/memes/ai?base=${encodeURIComponent('Courage Wolf')}&count=3`, { token: await tokenFor('premium') });
    expect(ai.status).toBe(200);
    expect(ai.body.items.length).toBeGreaterThan(0);
    expect(ai.body.items.every((hit) => hit.generated)).toBe(true);
    expect((await api('GET', '/api/memes/ai?base=Courage%20Wolf', { token: await tokenFor('viewer') })).status).toBe(403);
    expect((await api('GET', '/api/memes/ai?base=No%20such%20base%20anywhere', { token: await tokenFor('premium') })).status).toBe(400);
  });

  describe("a person's counts on their actor", () => {
    // A person no other memes test uses (their searches stay within the free quota). The counts are read from the actor
    // through a sidecar, as another service would: reading them through /memes/stats/me would count each read too.
    let token = '';
    let subject = '';
    const sidecar = () => stackInfo().sidecars['categories']!;
    const actor = () => createUserActivityClient({ daprHost: '127.0.0.1', daprHttpPort: sidecar().httpPort, daprApiToken: sidecar().apiToken, timeoutMs: 30_000 });
    beforeAll(async () => {
      token = await tokenFor('auditor');
      subject = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }).sub;
    });
    // Every day's total (the minutes not rolled up yet included), so a run across midnight still adds up.
    const total = (stats: UserActivityStats) => Object.values(stats.days).reduce((sum, day) => sum + (day['memes'] ?? 0), 0);
    const searchesOf = (stats: UserActivityStats) => stats.queries?.['memes'] ?? 0;
    const timesSearched = (stats: UserActivityStats, text: string) => stats.topQueries?.['memes']?.find((entry) => entry.query === text)?.count ?? 0;
    /** Waits until the actor holds `requests` requests and `searches` searches, then a little longer: nothing more may come. */
    async function settled(requests: number, searches: number): Promise<UserActivityStats> {
      await eventually(() => actor().stats(subject), (stats) => total(stats) >= requests && searchesOf(stats) >= searches, 30_000);
      // Reports are sent once a second: a little longer, and nothing more may arrive.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      return actor().stats(subject);
    }

    it('when a person searches the same query three times, then it tops their stats, as its words are searched', async () => {
      const start = await actor().stats(subject);
      // Three spellings of one query (case, accents, punctuation): counted as one text, the person's own words folded.
      const spellings = ['Zèbre café', 'zebre CAFE', 'zebre, café!'];
      for (const spelling of spellings) expect((await api('GET', `/api/memes?query=${encodeURIComponent(spelling)}`, { token })).status).toBe(200);
      // A later page of a search is not another query.
      const first = await api<Page>('GET', '/api/memes?query=cat&limit=1', { token });
      expect((await api('GET', `/api/memes?query=cat&limit=1&cursor=${encodeURIComponent(first.body.nextCursor!)}`, { token })).status).toBe(200);
      const counted = await settled(total(start) + 5, searchesOf(start) + 4);
      expect(total(counted)).toBe(total(start) + 5);
      expect(searchesOf(counted)).toBe(searchesOf(start) + 4);
      expect(counted.topQueries?.['memes']?.[0]).toEqual({ query: 'zebre cafe', count: 3, countAtLeast: 3 });
      expect(timesSearched(counted, 'cat')).toBe(timesSearched(start, 'cat') + 1);
      // The person reads the same through /memes/stats/me (the read is a request too, counted after it).
      const shown = await api<UserActivityStats>('GET', '/api/memes/stats/me', { token });
      expect(shown.status).toBe(200);
      expect(shown.body.topQueries?.['memes']?.[0]).toEqual({ query: 'zebre cafe', count: 3, countAtLeast: 3 });
      expect(shown.body.queries?.['memes']).toBe(searchesOf(start) + 4);
      await settled(total(start) + 6, searchesOf(start) + 4);
    });

    it('when a user searches concurrently, then their actor counts every request and search exactly, and /memes/stats/me shows it', async () => {
      const start = await actor().stats(subject);
      const answers = await Promise.all(Array.from({ length: 40 }, () => api('GET', '/api/memes?query=cat&limit=1', { token })));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      const counted = await settled(total(start) + 40, searchesOf(start) + 40);
      expect(total(counted)).toBe(total(start) + 40);
      expect(searchesOf(counted)).toBe(searchesOf(start) + 40);
      expect(timesSearched(counted, 'cat')).toBe(timesSearched(start, 'cat') + 40);
      const shown = await api<UserActivityStats>('GET', '/api/memes/stats/me', { token });
      expect(shown.status).toBe(200);
      expect(total(shown.body)).toBeGreaterThanOrEqual(total(start) + 40);
      expect(shown.body.topQueries?.['memes']?.[0]?.query).toBe('cat');
    });
  });
});

import { reportInput } from '../src/domain/activity-schema';
import {
  consume,
  countQueries,
  emptyActivity,
  emptyQueries,
  rememberedReports,
  report,
  rollUp,
  shownQueriesPerService,
  statsOf,
  trackedQueriesPerService,
} from '../src/domain/user-activity';

const at = (iso: string) => new Date(iso);

describe('user activity rules', () => {
  it('when reports arrive within one minute, then the minute and the day count them per service', () => {
    let state = emptyActivity();
    state = report(state, { service: 'memes', count: 2 }, at('2026-11-22T10:00:05Z'));
    state = report(state, { service: 'memes', count: 3 }, at('2026-11-22T10:00:50Z'));
    state = report(state, { service: 'users', count: 1 }, at('2026-11-22T10:00:59Z'));
    const stats = statsOf(state, at('2026-11-22T10:00:59Z'));
    expect(stats.currentMinute).toEqual({ memes: 5, users: 1 });
    expect(stats.today).toEqual({ memes: 5, users: 1 });
    expect(stats.lastSeen).toBe('2026-11-22T10:00:59.000Z');
  });

  it('when the minute changes, then the current minute starts empty and the day keeps counting', () => {
    let state = report(emptyActivity(), { service: 'memes', count: 4 }, at('2026-11-22T10:00:30Z'));
    state = report(state, { service: 'memes', count: 1 }, at('2026-11-22T10:01:00Z'));
    const stats = statsOf(state, at('2026-11-22T10:01:10Z'));
    expect(stats.currentMinute).toEqual({ memes: 1 });
    expect(stats.today).toEqual({ memes: 5 });
    expect(Object.keys(stats.pendingMinutes)).toEqual(['2026-11-22T10:00:00.000Z', '2026-11-22T10:01:00.000Z']);
  });

  it('when minute counters are rolled up, then they move into their days, totals stay exact and old days are forgotten', () => {
    let state = report(emptyActivity(), { service: 'memes', count: 7 }, at('2026-11-01T23:59:30Z'));
    state = report(state, { service: 'memes', count: 2 }, at('2026-11-22T00:00:10Z'));
    const first = rollUp(state, at('2026-11-22T00:00:20Z'), 31);
    expect(first.moved).toBe(2);
    expect(first.state.minutes).toEqual({});
    expect(first.state.days).toEqual({ '2026-11-01': { memes: 7 }, '2026-11-22': { memes: 2 } });
    const later = report(first.state, { service: 'memes', count: 1 }, at('2026-11-22T00:00:30Z'));
    expect(statsOf(later, at('2026-11-22T00:00:40Z')).today).toEqual({ memes: 3 });
    const trimmed = rollUp(later, at('2026-11-22T01:00:00Z'), 7);
    expect(trimmed.state.days).toEqual({ '2026-11-22': { memes: 3 } });
    expect(rollUp(trimmed.state, at('2026-11-22T01:01:00Z'), 7).moved).toBe(0);
  });

  it('when a user consumes past the limit, then it is refused until the minute ends, per service', () => {
    let state = emptyActivity();
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const result = consume(state, { service: 'memes', limit: 2 }, at('2026-11-22T10:00:45.200Z'));
      state = result.state;
      answers.push(result.answer);
    }
    expect(answers).toEqual([
      { allowed: true, remaining: 1, retryAfterSeconds: 0 },
      { allowed: true, remaining: 0, retryAfterSeconds: 0 },
      { allowed: false, remaining: 0, retryAfterSeconds: 15 },
    ]);
    expect(consume(state, { service: 'users', limit: 2 }, at('2026-11-22T10:00:50Z')).answer.allowed).toBe(true);
    expect(consume(state, { service: 'memes', limit: 2 }, at('2026-11-22T10:01:00Z')).answer).toEqual({ allowed: true, remaining: 1, retryAfterSeconds: 0 });
  });

  it('when the limit is 0, then nothing is allowed and the wait is at least a second', () => {
    expect(consume(emptyActivity(), { service: 'memes', limit: 0 }, at('2026-11-22T10:00:59.999Z')).answer).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterSeconds: 1,
    });
  });
});

describe('repeated reports', () => {
  it('when a report is sent again with the same id, then it is counted once; another id counts again', () => {
    const now = at('2026-11-22T10:00:00Z');
    let state = report(emptyActivity(), { service: 'memes', count: 3, reportId: 'a' }, now);
    state = report(state, { service: 'memes', count: 3, reportId: 'a' }, now);
    state = report(state, { service: 'memes', count: 1, reportId: 'b' }, now);
    expect(statsOf(state, now).today).toEqual({ memes: 4 });
  });

  it('when more reports than it remembers arrive, then it keeps only the latest ids', () => {
    let state = emptyActivity();
    for (let i = 0; i < rememberedReports + 5; i++) state = report(state, { service: 'memes', count: 1, reportId: `r${i}` }, at('2026-11-22T10:00:00Z'));
    expect(state.recentReports).toHaveLength(rememberedReports);
    expect(state.recentReports[rememberedReports - 1]).toBe(`r${rememberedReports + 4}`);
    expect(state.recentReports).not.toContain('r0');
  });
});

describe('queries', () => {
  const now = at('2026-11-22T10:00:00Z');
  const searched = (count: number, ...texts: Array<[string, number]>) => ({
    service: 'memes',
    count: 0,
    queries: { count, texts: texts.map(([text, times]) => ({ text, count: times })) },
  });

  it('when a report carries queries alone, then the searches and their texts are counted and no request is', () => {
    const input = searched(4, ['grumpy cat', 3], ['cafe', 1]);
    const state = report(emptyActivity(), input, now);
    const queries = countQueries(emptyQueries(), input);
    const stats = statsOf(state, now, queries);
    expect(stats.today).toEqual({});
    expect(stats.lastSeen).toBe(now.toISOString());
    expect(stats.queries).toEqual({ memes: 4 });
    expect(stats.topQueries).toEqual({
      memes: [
        { query: 'grumpy cat', count: 3, countAtLeast: 3 },
        { query: 'cafe', count: 1, countAtLeast: 1 },
      ],
    });
  });

  it('when a report names fewer texts than searches (the reporter bounds them), then the count stays exact', () => {
    const queries = countQueries(countQueries(emptyQueries(), searched(5, ['cat', 2])), searched(1, ['cat', 1]));
    expect(statsOf(emptyActivity(), now, queries).queries).toEqual({ memes: 6 });
    expect(statsOf(emptyActivity(), now, queries).topQueries['memes']).toEqual([{ query: 'cat', count: 3, countAtLeast: 3 }]);
  });

  it('when a person searches more distinct texts than are tracked, then the state keeps only the bound and stats show the top', () => {
    let queries = emptyQueries();
    for (let i = 0; i < 3 * trackedQueriesPerService; i++) queries = countQueries(queries, searched(1, [`text ${i}`, 1]));
    for (let i = 0; i < 3; i++) queries = countQueries(queries, searched(1, ['favourite', 1]));
    expect(queries.top['memes']).toHaveLength(trackedQueriesPerService);
    const shown = statsOf(emptyActivity(), now, queries).topQueries['memes']!;
    expect(shown).toHaveLength(shownQueriesPerService);
    expect(shown[0]?.query).toBe('favourite');
    expect(statsOf(emptyActivity(), now, queries).queries).toEqual({ memes: 3 * trackedQueriesPerService + 3 });
  });

  it('when a report without queries and with no requests is parsed, then it is refused; with queries alone it is taken', () => {
    expect(reportInput.safeParse({ service: 'memes', count: 0 }).success).toBe(false);
    expect(reportInput.safeParse(searched(1, ['cat', 1])).success).toBe(true);
    expect(reportInput.safeParse(searched(1, ['cat', 2])).success).toBe(false);
    expect(reportInput.safeParse(searched(1, ['x'.repeat(101), 1])).success).toBe(false);
    expect(reportInput.safeParse(searched(1, ['tab\there', 1])).success).toBe(false);
  });
});

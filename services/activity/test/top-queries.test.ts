import { seededRandom } from '@mercato/platform';
import { countTopQueries, topQueriesOf, type TopQueryCounter } from '../src/domain/top-queries';

const searches = (...texts: string[]) => {
  const times = new Map<string, number>();
  for (const text of texts) times.set(text, (times.get(text) ?? 0) + 1);
  return times;
};

describe('the bounded top-queries counter (Space-Saving)', () => {
  it('when fewer distinct texts than it tracks are searched, then every count is exact, most searched first', () => {
    let counter: TopQueryCounter = [];
    counter = countTopQueries(counter, searches('cat', 'dog', 'cat'), 4);
    counter = countTopQueries(counter, searches('cat', 'bird'), 4);
    expect(topQueriesOf(counter, 10)).toEqual([
      { query: 'cat', count: 3, countAtLeast: 3 },
      { query: 'bird', count: 1, countAtLeast: 1 },
      { query: 'dog', count: 1, countAtLeast: 1 },
    ]);
  });

  it('when it is full, then a new text replaces the least counted one and starts from its count, marked as over by that much', () => {
    let counter = countTopQueries([], new Map([['cat', 5], ['dog', 2], ['owl', 1]]), 3);
    counter = countTopQueries(counter, searches('fox'), 3);
    expect(counter).toEqual([['cat', 5, 0], ['dog', 2, 0], ['fox', 2, 1]]);
    expect(topQueriesOf(counter, 3)[2]).toEqual({ query: 'fox', count: 2, countAtLeast: 1 });
  });

  it('when many one-off texts are searched between a favourite, then the favourite stays on top with its exact count', () => {
    let counter: TopQueryCounter = [];
    for (let i = 0; i < 1000; i++) {
      counter = countTopQueries(counter, searches(`once ${i}`), 32);
      if (i % 10 === 0) counter = countTopQueries(counter, searches('grumpy cat'), 32);
    }
    expect(counter).toHaveLength(32);
    expect(topQueriesOf(counter, 1)).toEqual([{ query: 'grumpy cat', count: 100, countAtLeast: 100 }]);
  });

  it('when a random stream is counted, then memory stays bounded, no count is below the truth and none is over by more than its overcount or N/k', () => {
    const random = seededRandom(7);
    const capacity = 16;
    const truth = new Map<string, number>();
    let counter: TopQueryCounter = [];
    let total = 0;
    for (let step = 0; step < 2000; step++) {
      // A skewed stream: a few texts often, a long tail rarely; sometimes coalesced (several at once).
      const text = `q${Math.floor(random() ** 3 * 200)}`;
      const times = 1 + Math.floor(random() * 3);
      truth.set(text, (truth.get(text) ?? 0) + times);
      total += times;
      counter = countTopQueries(counter, new Map([[text, times]]), capacity);
      expect(counter.length).toBeLessThanOrEqual(capacity);
    }
    for (const [text, count, overcount] of counter) {
      const real = truth.get(text) ?? 0;
      expect(count).toBeGreaterThanOrEqual(real);
      expect(count - overcount).toBeLessThanOrEqual(real);
      expect(overcount).toBeLessThanOrEqual(total / capacity);
    }
    // Every text searched more than N/k times is tracked.
    for (const [text, real] of truth) if (real > total / capacity) expect(counter.some(([tracked]) => tracked === text)).toBe(true);
  });

  it('when the same searches arrive in another order within one report, then the counter comes out the same', () => {
    const full = countTopQueries([], new Map([['a', 3], ['b', 2]]), 2);
    const one = countTopQueries(full, new Map([['c', 1], ['d', 4]]), 2);
    const other = countTopQueries(full, new Map([['d', 4], ['c', 1]]), 2);
    expect(one).toEqual(other);
  });
});

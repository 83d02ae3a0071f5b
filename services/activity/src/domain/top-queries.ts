/**
 * A person's most frequent queries in bounded memory: the Space-Saving counter (Metwally, Agrawal, El Abbadi, "Efficient
 * computation of frequent and top-k elements in data streams", 2005), weighted, as one small array in the actor's state.
 *
 * It tracks at most `capacity` texts. A text already tracked adds its count; a new one takes a free slot, or, when all
 * are taken, replaces the least counted text and starts from that text's count (remembered as its `overcount`). So:
 * - memory is bounded whatever the person types: `capacity` texts of at most the caller's text limit;
 * - while a person has searched no more distinct texts than `capacity`, every count is exact (`overcount` 0);
 * - after that a count is never below the truth and at most `overcount` above it, and every text searched more than
 *   (all searches / capacity) times is tracked: a person's real favourites cannot be pushed out by one-off queries.
 *
 * Why not the others: a plain bounded map must either refuse new texts once full (a person's new favourite never
 * enters) or drop one without a bound on what it loses; Misra–Gries lowers every counter on each untracked text (O(k)
 * writes) and lets a new text in only after it has worn the others down, and its counts are only lower bounds, which a
 * person reading "searched 12 times" would misread. Space-Saving changes one entry per text and always shows the
 * latest new text until something more frequent needs its slot.
 */

/** A tracked text: [text, count (never below the truth), overcount (the most the count may exceed the truth by)]. */
export type TrackedQuery = [text: string, count: number, overcount: number];

/** Tracked texts, most counted first (ties: fewest overcounted, then the text), so reading the top is a slice. */
export type TopQueryCounter = TrackedQuery[];

export interface TopQuery {
  query: string;
  count: number;
  /** `count` minus what it may be over by: the person searched this at least that many times. */
  countAtLeast: number;
}

const byRank = (a: TrackedQuery, b: TrackedQuery): number => b[1] - a[1] || a[2] - b[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Adds `times` searches of each text (a coalesced report: text → times), keeping at most `capacity` texts. */
export function countTopQueries(counter: readonly TrackedQuery[], searched: ReadonlyMap<string, number>, capacity: number): TopQueryCounter {
  const tracked = new Map<string, TrackedQuery>(counter.map((entry) => [entry[0], [...entry]]));
  // The most searched of the report first: when slots run out, what replaces what is the same whatever the order sent.
  const incoming = [...searched].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [text, times] of incoming) {
    const known = tracked.get(text);
    if (known) {
      known[1] += times;
      continue;
    }
    if (tracked.size < capacity) {
      tracked.set(text, [text, times, 0]);
      continue;
    }
    let least: TrackedQuery | undefined;
    for (const entry of tracked.values()) if (!least || byRank(entry, least) > 0) least = entry;
    if (!least) continue; // capacity 0: nothing is tracked
    tracked.delete(least[0]);
    tracked.set(text, [text, least[1] + times, least[1]]);
  }
  return [...tracked.values()].sort(byRank);
}

/** The `shown` most counted texts, for stats. */
export const topQueriesOf = (counter: readonly TrackedQuery[], shown: number): TopQuery[] =>
  counter.slice(0, shown).map(([query, count, overcount]) => ({ query, count, countAtLeast: count - overcount }));

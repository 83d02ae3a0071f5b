import type { ActivityStats, ConsumeInput, Counts, QuotaAnswer, ReportInput } from './activity-schema';
import { countTopQueries, topQueriesOf, type TopQueryCounter } from './top-queries';

/**
 * One user's activity, as the `UserActivity` actor keeps it (one document under one state key, so each turn reads and
 * writes it once). Pure functions of (state, input, now): the actor supplies the state and the clock.
 */
export interface ActivityState {
  lastSeen: string | null;
  /** Minute counters not rolled up yet: minute start (ISO 8601) → requests per service. */
  minutes: Record<string, Counts>;
  /** Rolled-up daily totals: `YYYY-MM-DD` (UTC) → requests per service. */
  days: Record<string, Counts>;
  /** The running minute: what was reported (for stats) and consumed (for the quota) in it. */
  thisMinute: { start: string; reported: Counts; consumed: Counts };
  rolledUpAt: string | null;
  /** Whether the roll-up reminder is registered; it unregisters itself once nothing is left to roll up. */
  rollupScheduled: boolean;
  /** Ids of the latest reports (at most `rememberedReports`), so a retried report is counted once. */
  recentReports: string[];
}

/**
 * A person's searches, kept under a state key of its own: only a report that carries queries reads and writes it, so the
 * quota's `consume` on the request path never moves its few kilobytes.
 */
export interface QueryState {
  /** Searches with a text query per service, since the person was first counted. */
  counted: Counts;
  /** Per service, the bounded counter of normalised texts. */
  top: Record<string, TopQueryCounter>;
}

/**
 * Texts tracked per person and service: the most a person's query state can hold is this many texts of at most
 * `activityQueryLimits.textMaxLength` (100) characters, about 4 KB per service in JSON. Every text searched more than
 * 1/32 of all a person's searches is guaranteed to be among them.
 */
export const trackedQueriesPerService = 32;
/** Texts `stats` shows per service (the most counted of the tracked ones, whose counts are the most reliable). */
export const shownQueriesPerService = 10;

export const emptyQueries = (): QueryState => ({ counted: {}, top: {} });

/** Far more than one caller's retries of one report can span (each caller retries a few times per flush). */
export const rememberedReports = 200;

export const emptyActivity = (): ActivityState => ({
  lastSeen: null,
  minutes: {},
  days: {},
  thisMinute: { start: '', reported: {}, consumed: {} },
  rolledUpAt: null,
  rollupScheduled: false,
  recentReports: [],
});

const minuteMs = 60_000;
const minuteStart = (now: Date) => new Date(Math.floor(now.getTime() / minuteMs) * minuteMs).toISOString();
const dayOf = (iso: string) => iso.slice(0, 10);

const added = (counts: Counts | undefined, service: string, n: number): Counts => ({ ...counts, [service]: (counts?.[service] ?? 0) + n });
const sum = (a: Counts | undefined, b: Counts | undefined): Counts => {
  const total: Counts = { ...a };
  for (const [service, n] of Object.entries(b ?? {})) total[service] = (total[service] ?? 0) + n;
  return total;
};

/** The running minute's record, started afresh when the clock has moved into a new minute. */
function currentMinute(state: ActivityState, now: Date): ActivityState['thisMinute'] {
  const start = minuteStart(now);
  return state.thisMinute.start === start ? state.thisMinute : { start, reported: {}, consumed: {} };
}

/** Whether a report with this id was counted already (a retry after a timeout): then it changes nothing. */
export const isRepeatedReport = (state: ActivityState, input: ReportInput): boolean =>
  input.reportId !== undefined && (state.recentReports ?? []).includes(input.reportId);

/**
 * Adds `count` requests of `service` to this minute's counter and marks the user seen; a repeated report is a no-op.
 * A report of queries alone (`count` 0) only marks the user seen: its searches go to `countQueries`.
 */
export function report(state: ActivityState, input: ReportInput, now: Date): ActivityState {
  if (isRepeatedReport(state, input)) return state;
  const recent = state.recentReports ?? [];
  const minute = currentMinute(state, now);
  const seen: ActivityState = {
    ...state,
    recentReports: input.reportId === undefined ? recent : [...recent.slice(1 - rememberedReports), input.reportId],
    lastSeen: now.toISOString(),
    thisMinute: minute,
  };
  if (input.count === 0) return seen;
  return {
    ...seen,
    minutes: { ...state.minutes, [minute.start]: added(state.minutes[minute.start], input.service, input.count) },
    thisMinute: { ...minute, reported: added(minute.reported, input.service, input.count) },
  };
}

/** Adds a report's searches: the exact count, and its texts to the service's bounded counter. */
export function countQueries(queries: QueryState, input: ReportInput): QueryState {
  if (!input.queries) return queries;
  const searched = new Map<string, number>();
  for (const { text, count } of input.queries.texts) searched.set(text, (searched.get(text) ?? 0) + count);
  return {
    counted: added(queries.counted, input.service, input.queries.count),
    top: { ...queries.top, [input.service]: countTopQueries(queries.top[input.service] ?? [], searched, trackedQueriesPerService) },
  };
}

/** Takes one request from this minute's quota for `service`, if any is left. */
export function consume(state: ActivityState, input: ConsumeInput, now: Date): { state: ActivityState; answer: QuotaAnswer } {
  const minute = currentMinute(state, now);
  const used = minute.consumed[input.service] ?? 0;
  const seen = { ...state, lastSeen: now.toISOString() };
  if (used >= input.limit) {
    const secondsLeft = Math.ceil((Date.parse(minute.start) + minuteMs - now.getTime()) / 1000);
    return {
      state: { ...seen, thisMinute: minute },
      answer: { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, secondsLeft) },
    };
  }
  return {
    state: { ...seen, thisMinute: { ...minute, consumed: added(minute.consumed, input.service, 1) } },
    answer: { allowed: true, remaining: input.limit - used - 1, retryAfterSeconds: 0 },
  };
}

/**
 * Moves every minute counter (the running minute's too: its later reports start a new counter) into its day's total,
 * and forgets days older than `keepDays`. Returns how many minute counters it moved.
 */
export function rollUp(state: ActivityState, now: Date, keepDays: number): { state: ActivityState; moved: number } {
  const days = { ...state.days };
  const entries = Object.entries(state.minutes);
  for (const [minute, counts] of entries) days[dayOf(minute)] = sum(days[dayOf(minute)], counts);
  const oldestKept = new Date(now.getTime() - (keepDays - 1) * 24 * 60 * minuteMs).toISOString().slice(0, 10);
  for (const day of Object.keys(days)) if (day < oldestKept) delete days[day];
  return { state: { ...state, minutes: {}, days, rolledUpAt: now.toISOString() }, moved: entries.length };
}

export function statsOf(state: ActivityState, now: Date, queries: QueryState = emptyQueries()): ActivityStats {
  const days: Record<string, Counts> = { ...state.days };
  for (const [minute, counts] of Object.entries(state.minutes)) days[dayOf(minute)] = sum(days[dayOf(minute)], counts);
  return {
    lastSeen: state.lastSeen,
    currentMinute: currentMinute(state, now).reported,
    today: days[dayOf(now.toISOString())] ?? {},
    days,
    rolledUpAt: state.rolledUpAt,
    pendingMinutes: state.minutes,
    queries: queries.counted,
    topQueries: Object.fromEntries(Object.entries(queries.top).map(([service, counter]) => [service, topQueriesOf(counter, shownQueriesPerService)])),
  };
}

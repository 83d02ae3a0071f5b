import { activityQueryLimits } from '@mercato/platform';
import { z } from 'zod';
import type { TopQuery } from './top-queries';

/** A service's name as callers report it (an app id: `users`, `memes`). */
const serviceName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be an app id: lowercase letters, digits and -');

/** A query as the reporting service normalised it (its own words rule): the person's own text, nothing else. */
const queryText = z
  .string()
  .min(1)
  .max(activityQueryLimits.textMaxLength)
  .regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters');

/** Searches with a text query among the reported requests, and how often each text was searched. */
const reportedQueries = z
  .strictObject({
    count: z.number().int().min(1).max(100_000).describe('Searches with a text query'),
    texts: z
      .array(z.strictObject({ text: queryText, count: z.number().int().min(1).max(100_000) }))
      .max(activityQueryLimits.textsPerReport)
      .describe('Their normalised texts with how often each was searched; may leave some out (the caller bounds what it keeps), never add'),
  })
  .refine((queries) => queries.texts.reduce((sum, entry) => sum + entry.count, 0) <= queries.count, {
    message: 'must not count more searches than count',
    path: ['texts'],
  });

/** `report`: requests a service served for the user, coalesced by the caller. */
export const reportInput = z
  .strictObject({
    service: serviceName,
    /** Requests; 0 only in a report that carries queries alone (a service counting its searches apart from requests). */
    count: z.number().int().min(0).max(100_000),
    /**
     * The caller's id for this report. A report sent again with the same id (a retry after a timeout, whose outcome the
     * caller cannot know) is counted once, so coalesced counting stays exact across retries.
     */
    reportId: z.string().min(1).max(64).optional(),
    queries: reportedQueries.optional(),
  })
  .refine((input) => input.count > 0 || input.queries !== undefined, { message: 'must be at least 1 in a report without queries', path: ['count'] });

/** `consume`: one request against a per-minute quota; the caller passes the limit (free vs premium is its config). */
export const consumeInput = z.strictObject({
  service: serviceName,
  limit: z.number().int().min(0).max(1_000_000),
});

export type ReportInput = z.output<typeof reportInput>;
export type ConsumeInput = z.output<typeof consumeInput>;

/** Requests per service. */
export type Counts = Record<string, number>;

export interface QuotaAnswer {
  allowed: boolean;
  /** Requests left in this minute after this one. */
  remaining: number;
  /** Seconds until the minute ends and the quota is full again; 0 when allowed. */
  retryAfterSeconds: number;
}

export interface ActivityStats {
  /** When the user was last reported or consumed a quota (ISO 8601), or null if never. */
  lastSeen: string | null;
  /** Requests reported in the current minute (UTC), per service. */
  currentMinute: Counts;
  /** Requests reported today (UTC), per service: the rolled-up total plus what is not rolled up yet. Exact. */
  today: Counts;
  /** Daily totals (`YYYY-MM-DD`, UTC) including what is not rolled up yet, for the days kept. */
  days: Record<string, Counts>;
  /** When the reminder last rolled minute counters up (ISO 8601), or null if never. */
  rolledUpAt: string | null;
  /** Minute counters waiting for the next roll-up (minute start → per service). */
  pendingMinutes: Record<string, Counts>;
  /** Searches with a text query, per service, since the person was first counted. Exact. */
  queries: Counts;
  /** Per service, the person's most searched normalised texts, most first (bounded: domain/top-queries.ts). */
  topQueries: Record<string, TopQuery[]>;
}

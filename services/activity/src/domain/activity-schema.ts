import { z } from 'zod';

/** A service's name as callers report it (an app id: `users`, `memes`). */
const serviceName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be an app id: lowercase letters, digits and -');

/** `report`: requests a service served for the user, coalesced by the caller. */
export const reportInput = z.strictObject({
  service: serviceName,
  count: z.number().int().min(1).max(100_000),
  /**
   * The caller's id for this report. A report sent again with the same id (a retry after a timeout, whose outcome the
   * caller cannot know) is counted once, so coalesced counting stays exact across retries.
   */
  reportId: z.string().min(1).max(64).optional(),
});

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
}

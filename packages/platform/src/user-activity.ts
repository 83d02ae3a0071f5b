import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from './errors';
import { requestContext } from './request-context';

/**
 * A client for the `UserActivity` actor (services/activity, docs/actors.md), one per user id. Calls go through this
 * service's OWN sidecar's actor API, which finds the replica that holds the actor (placement) and calls it there; the
 * actor host is never reached directly and has no ingress route.
 */
export interface UserActivityClient {
  /** Adds `count` requests of `service` to the user's current minute (activity counting, off the request path). */
  report(userId: string, input: { service: string; count: number }): Promise<void>;
  /** Takes one request from the user's per-minute quota for `service` (quota counting, on the request path). */
  consume(userId: string, input: { service: string; limit: number }): Promise<QuotaAnswer>;
  stats(userId: string): Promise<UserActivityStats>;
}

export interface UserActivityClientOptions {
  daprHost: string;
  daprHttpPort: number;
  /** This sidecar's API token (`DAPR_API_TOKEN`). */
  daprApiToken: string;
  /** How long a call may take before it fails with 503; an actor answers in milliseconds unless its host is moving. */
  timeoutMs?: number;
}

const counts = z.record(z.string(), z.number());
const quotaAnswer = z.object({ allowed: z.boolean(), remaining: z.number(), retryAfterSeconds: z.number() });
const userActivityStats = z.object({
  lastSeen: z.string().nullable(),
  currentMinute: counts,
  today: counts,
  days: z.record(z.string(), counts),
  rolledUpAt: z.string().nullable(),
  pendingMinutes: z.record(z.string(), counts),
});
const reportAnswer = z.object({ ok: z.literal(true) });

export type QuotaAnswer = z.output<typeof quotaAnswer>;
export type UserActivityStats = z.output<typeof userActivityStats>;

const unavailable = (detail: string, cause?: unknown) =>
  new AppError('dependency-unavailable', { code: 'activity-unavailable', detail, cause, retryAfterSeconds: 2 });

const jsonOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export function createUserActivityClient(options: UserActivityClientOptions): UserActivityClient {
  const base = `http://${options.daprHost}:${options.daprHttpPort}/v1.0/actors/UserActivity`;
  const timeoutMs = options.timeoutMs ?? 3000;

  async function call<T>(userId: string, method: string, body: unknown, answer: z.ZodType<T>): Promise<T> {
    if (userId.length === 0 || userId.length > 256) throw new AppError('internal', { detail: 'A user id has 1 to 256 characters' });
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${base}/${encodeURIComponent(userId)}/method/${method}`, {
        method: 'POST',
        headers: {
          'dapr-api-token': options.daprApiToken,
          'content-type': 'application/json',
          traceparent: requestContext.getStore()?.traceparent ?? `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      throw unavailable(name === 'TimeoutError' ? `The activity actor did not answer within ${timeoutMs} ms` : 'The sidecar could not be reached', error);
    }
    // daprd answers for the actor host: anything but 200 (host down, moving, refused input) means no answer.
    if (response.status !== 200) throw unavailable(`The activity actor answered ${response.status}: ${text.slice(0, 200)}`);
    const parsed = answer.safeParse(jsonOrUndefined(text));
    if (!parsed.success) throw unavailable(`The activity actor's ${method} answer is not understood`, parsed.error);
    return parsed.data;
  }

  return {
    async report(userId, input) {
      await call(userId, 'report', input, reportAnswer);
    },
    consume: (userId, input) => call(userId, 'consume', input, quotaAnswer),
    stats: (userId) => call(userId, 'stats', {}, userActivityStats),
  };
}

export function userActivityClientFromConfig(config: { DAPR_HOST: string; DAPR_HTTP_PORT: number; DAPR_API_TOKEN: string }): UserActivityClient {
  return createUserActivityClient({ daprHost: config.DAPR_HOST, daprHttpPort: config.DAPR_HTTP_PORT, daprApiToken: config.DAPR_API_TOKEN });
}

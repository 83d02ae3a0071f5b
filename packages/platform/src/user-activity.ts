import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { z } from 'zod';
import { AppError } from './errors';
import type { Logger } from './logger';
import { requestContext } from './request-context';

/**
 * A client for the `UserActivity` actor (services/activity, docs/actors.md), one per user id. Calls go through this
 * service's OWN sidecar's actor API, which finds the replica that holds the actor (placement) and calls it there; the
 * actor host is never reached directly and has no ingress route.
 */
export interface UserActivityClient {
  /**
   * Adds `count` requests of `service` to the user's current minute (activity counting, off the request path). A
   * report sent again with the same `reportId` is counted once, so a retry after a timeout cannot count twice.
   */
  report(userId: string, input: ActivityReport): Promise<void>;
  /** Takes one request from the user's per-minute quota for `service` (quota counting, on the request path). */
  consume(userId: string, input: { service: string; limit: number }): Promise<QuotaAnswer>;
  stats(userId: string): Promise<UserActivityStats>;
}

/** One report: requests (`count`) and, from a service that searches, the searches with a text query among them. */
export interface ActivityReport {
  service: string;
  /** Requests; 0 only when the report carries `queries` alone. */
  count: number;
  reportId?: string;
  queries?: { count: number; texts: Array<{ text: string; count: number }> };
}

/**
 * What a report may carry of a person's queries (the actor refuses more): a text is the reporting service's normalised
 * query, at most `textMaxLength` characters; one report names at most `textsPerReport` texts.
 */
export const activityQueryLimits = { textMaxLength: 100, textsPerReport: 100 } as const;

export interface UserActivityClientOptions {
  daprHost: string;
  daprHttpPort: number;
  /** This sidecar's API token (`DAPR_API_TOKEN`). */
  daprApiToken: string;
  /** How long a call may take before it fails with 503; an actor answers in milliseconds unless its host is moving. */
  timeoutMs?: number;
}

const counts = z.record(z.string(), z.number().int());
const topQuery = z.object({
  query: z.string().describe('The normalised text (words folded as the service searches them, space-separated)'),
  count: z.number().int().describe('Times searched; never below the truth, and exact until the person has searched more distinct texts than are tracked'),
  countAtLeast: z.number().int().describe('Times searched at least (equals count while exact)'),
});
export const quotaAnswerSchema = z.object({ allowed: z.boolean(), remaining: z.number(), retryAfterSeconds: z.number() });
/** What `stats` answers; exported so a service that serves it (GET /users/me/stats) documents the same shape. */
export const userActivityStatsSchema = z.object({
  lastSeen: z.string().nullable(),
  currentMinute: counts,
  today: counts,
  days: z.record(z.string(), counts),
  rolledUpAt: z.string().nullable(),
  pendingMinutes: z.record(z.string(), counts),
  // Added after the first release, so optional: an actor host of before them (a rolling upgrade) and the users service's
  // stats of a person who never signed in (built without the actor) leave them out; read them as empty.
  queries: counts.optional().describe('Searches with a text query per service, since the person was first counted (exact); absent is none'),
  topQueries: z
    .record(z.string(), z.array(topQuery))
    .optional()
    .describe("Per service, the person's 10 most searched texts, most first, from a bounded counter of 32 texts (docs/actors.md); absent is none"),
});
const reportAnswer = z.object({ ok: z.literal(true) });

export type QuotaAnswer = z.output<typeof quotaAnswerSchema>;
export type UserActivityStats = z.output<typeof userActivityStatsSchema>;

const actorRefusal = /error from actor service: \(4\d\d\)|actor method not found/;

const unavailable = (detail: string, cause?: unknown) =>
  new AppError('dependency-unavailable', { code: 'activity-unavailable', detail, cause, retryAfterSeconds: 2 });

const jsonOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * Kept-alive connections to this process's own sidecar, shared by every client. node:http rather than fetch: a
 * quota-checked request makes one call, and on Node 20 fetch (undici) costs 0.6–1.0 ms of CPU per call against
 * 0.1–0.2 ms for node:http on a kept-alive socket (measured with 16 concurrent callers against a local server).
 */
const sidecarConnections = new Agent({ keepAlive: true });

class CallTimedOut extends Error {
  override name = 'TimeoutError';
}

/** POSTs `body` and reads the whole answer; a call not answered within `timeoutMs` is destroyed and fails. */
function postToSidecar(target: { host: string; port: number; path: string }, headers: Record<string, string>, body: string, timeoutMs: number) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    let timedOut = false;
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(timedOut ? new CallTimedOut(`no answer within ${timeoutMs} ms`, { cause: error }) : error);
    };
    const call = request(
      { ...target, method: 'POST', agent: sidecarConnections, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      call.destroy();
    }, timeoutMs);
    call.on('error', fail);
    call.end(body);
  });
}

/** The longest id an actor may have; a token's `sub` from the realm (a UUID) is far shorter. */
export const maxActivityUserIdLength = 256;

export function createUserActivityClient(options: UserActivityClientOptions): UserActivityClient {
  const base = '/v1.0/actors/UserActivity';
  const timeoutMs = options.timeoutMs ?? 3000;

  async function call<T>(userId: string, method: string, body: unknown, answer: z.ZodType<T>): Promise<T> {
    if (userId.length === 0 || userId.length > maxActivityUserIdLength) {
      throw new AppError('internal', { detail: `A user id has 1 to ${maxActivityUserIdLength} characters` });
    }
    let response: { status: number; text: string };
    try {
      response = await postToSidecar(
        { host: options.daprHost, port: options.daprHttpPort, path: `${base}/${encodeURIComponent(userId)}/method/${method}` },
        {
          'dapr-api-token': options.daprApiToken,
          'content-type': 'application/json',
          traceparent: requestContext.getStore()?.traceparent ?? `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
        },
        JSON.stringify(body),
        timeoutMs,
      );
    } catch (error) {
      throw unavailable(error instanceof CallTimedOut ? `The activity actor did not answer within ${timeoutMs} ms` : 'The sidecar could not be reached', error);
    }
    const { text } = response;
    // daprd 1.18 wraps an actor's own 4xx in its 500 ERR_ACTOR_INVOKE_METHOD, naming the status in the message
    // ("error from actor service: (400) {problem}", pkg/actors/targets/app/transport/http): input this service built,
    // so a bug here, not an outage. Anything else but 200 is daprd answering for a host that is down or moving.
    if (response.status !== 200 && actorRefusal.test(text)) {
      throw new AppError('internal', { code: 'activity-refused', detail: `The activity actor refused ${method}: ${text.slice(0, 300)}` });
    }
    if (response.status !== 200) throw unavailable(`The activity actor answered ${response.status}: ${text.slice(0, 200)}`);
    const parsed = answer.safeParse(jsonOrUndefined(text));
    if (!parsed.success) throw unavailable(`The activity actor's ${method} answer is not understood`, parsed.error);
    return parsed.data;
  }

  return {
    async report(userId, input) {
      await call(userId, 'report', input, reportAnswer);
    },
    consume: (userId, input) => call(userId, 'consume', input, quotaAnswerSchema),
    stats: (userId) => call(userId, 'stats', {}, userActivityStatsSchema),
  };
}

export function userActivityClientFromConfig(config: { DAPR_HOST: string; DAPR_HTTP_PORT: number; DAPR_API_TOKEN: string }): UserActivityClient {
  return createUserActivityClient({ daprHost: config.DAPR_HOST, daprHttpPort: config.DAPR_HTTP_PORT, daprApiToken: config.DAPR_API_TOKEN });
}

export interface ActivityReporterOptions {
  /** The reporting service's app id: the actor counts per service. */
  service: string;
  client: UserActivityClient;
  logger: Pick<Logger, 'warn'>;
  /** How long counts gather before they are sent; also the most a crash of this process loses. Default 1 s. */
  flushIntervalMs?: number;
  /** Reports in flight at once during a flush. Default 16. */
  concurrency?: number;
  /** Users with unsent counts kept at most; beyond it new users' counts are dropped (and logged), never memory. */
  maxPendingUsers?: number;
}

/** Activity counting off the request path: `record` is a map update; counts go to the actors in coalesced reports. */
export interface ActivityReporter {
  record(userId: string, count?: number): void;
  /**
   * Counts one search with a text query (not a request: `record` counts those) and its normalised text. Texts past
   * `activityQueryLimits` (too long, or too many distinct ones for the user in one flush) are counted without their text.
   */
  recordQuery(userId: string, text: string): void;
  /** Sends what has gathered (the timer calls it; tests and shutdown may too). */
  flush(): Promise<void>;
  /** Stops the timer and sends what is left. */
  stop(): Promise<void>;
}

/** What one user's next report will say: requests, and searches with their texts. */
interface Gathered {
  count: number;
  queries: number;
  texts: Map<string, number>;
}

/** What the actor takes as a text (it refuses control characters); one it would refuse is counted without its text. */
const reportableText = /^[^\x00-\x1f\x7f]+$/;

const reportOf = (service: string, gathered: Gathered): ActivityReport & { reportId: string } => {
  const report: ActivityReport & { reportId: string } = { service, count: gathered.count, reportId: randomUUID() };
  if (gathered.queries > 0) {
    report.queries = { count: gathered.queries, texts: [...gathered.texts].map(([text, count]) => ({ text, count })) };
  }
  return report;
};

/**
 * Coalesces every request a service serves into one `report` per user and interval. A report that fails is kept with
 * its `reportId` and sent again at the next flush: the actor counts an id once, so a timed-out report that did land is
 * not counted twice, and one that did not is counted later (eventually exact). A crash of this process loses what was
 * recorded since the last flush and the failed reports it still held.
 */
export function createActivityReporter(options: ActivityReporterOptions): ActivityReporter {
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const concurrency = options.concurrency ?? 16;
  const maxPendingUsers = options.maxPendingUsers ?? 100_000;
  let gathering = new Map<string, Gathered>();
  /** Reports sent once without an answer, kept with their ids. */
  let unsent: Array<{ userId: string; report: ActivityReport & { reportId: string } }> = [];
  let dropped = 0;
  let flushing: Promise<void> | undefined;

  async function send() {
    const batch = [...unsent, ...[...gathering].map(([userId, gathered]) => ({ userId, report: reportOf(options.service, gathered) }))];
    gathering = new Map();
    unsent = [];
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const pending = batch[next++]!;
        try {
          await options.client.report(pending.userId, pending.report);
        } catch (error) {
          // Refused input would be refused again; an actor that did not answer gets the same report (same id) later.
          if (error instanceof AppError && error.status === 503 && unsent.length < maxPendingUsers) unsent.push(pending);
          else dropped += pending.report.count + (pending.report.queries?.count ?? 0);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
    if (dropped > 0) {
      options.logger.warn('activity counts dropped', { service: options.service, dropped });
      dropped = 0;
    }
  }

  const flush = (): Promise<void> => {
    flushing ??= send().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  /** The user's gathered counts, or undefined (and `count` dropped) when no more users may wait. */
  const gatheredFor = (userId: string, count: number): Gathered | undefined => {
    const known = gathering.get(userId);
    if (known) return known;
    if (gathering.size >= maxPendingUsers) {
      dropped += count;
      return undefined;
    }
    const fresh: Gathered = { count: 0, queries: 0, texts: new Map() };
    gathering.set(userId, fresh);
    return fresh;
  };

  return {
    record(userId, count = 1) {
      const gathered = gatheredFor(userId, count);
      if (gathered) gathered.count += count;
    },
    recordQuery(userId, text) {
      const gathered = gatheredFor(userId, 1);
      if (!gathered) return;
      gathered.queries += 1;
      const known = gathered.texts.get(text);
      if (known !== undefined) gathered.texts.set(text, known + 1);
      else if (reportableText.test(text) && text.length <= activityQueryLimits.textMaxLength && gathered.texts.size < activityQueryLimits.textsPerReport) {
        gathered.texts.set(text, 1);
      }
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}

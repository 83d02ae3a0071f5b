import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, backoffMs, type Logger } from '@mercato/platform';

/**
 * The Dapr distributed lock (alpha API, component `lockstore`: lock.redis locally) through this replica's sidecar. It
 * keeps replicas from contending for the same block; it is no fence and uniqueness never depends on it (the revision
 * claim is what reserves a block). When the lock store cannot be reached, work that needs the lock fails with 503.
 */
export interface SequenceLock {
  /** Runs `work` while holding the lock on `resource`; 503 when the lock store is down or stays busy too long. */
  withLock<T>(resource: string, work: () => Promise<T>): Promise<T>;
}

export interface DaprLockOptions {
  daprHost: string;
  daprHttpPort: number;
  daprApiToken: string;
  storeName: string;
  expirySeconds: number;
  waitMs: number;
  logger: Logger;
}

const callTimeoutMs = 2000;

export const lockUnavailable = (cause?: unknown) =>
  new AppError('dependency-unavailable', {
    code: 'lock-unavailable',
    detail: 'The lock store is unreachable, so no new block of numbers can be reserved right now',
    retryAfterSeconds: 2,
    cause,
  });

export function createDaprLock(options: DaprLockOptions): SequenceLock {
  const base = `http://${options.daprHost}:${options.daprHttpPort}/v1.0-alpha1`;
  // Unique per process: a restarted replica never mistakes a lock of its previous life for its own.
  const owner = `${hostname()}-${process.pid}-${randomUUID()}`;

  async function call(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(`${base}/${path}/${options.storeName}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'dapr-api-token': options.daprApiToken },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(callTimeoutMs),
      });
    } catch (error) {
      throw lockUnavailable(error);
    }
    const text = await response.text();
    if (!response.ok) throw lockUnavailable(new Error(`daprd ${path} answered ${response.status}: ${text.slice(0, 200)}`));
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  return {
    async withLock(resource, work) {
      const deadline = Date.now() + options.waitMs;
      for (let attempt = 0; ; attempt += 1) {
        const answer = await call('lock', { resourceId: resource, lockOwner: owner, expiryInSeconds: options.expirySeconds });
        if (answer['success'] === true) break;
        if (Date.now() >= deadline) {
          throw new AppError('dependency-unavailable', {
            code: 'sequence-busy',
            detail: 'Other replicas held this sequence for too long; nothing was handed out, try again',
            retryAfterSeconds: 1,
          });
        }
        await sleep(backoffMs(attempt, 5, 100));
      }
      try {
        return await work();
      } finally {
        // Awaited, so this replica's next holder does not race its own release. One that cannot be released expires on
        // its own; the next holder only waits longer.
        await call('unlock', { resourceId: resource, lockOwner: owner }).catch((error: unknown) =>
          options.logger.debug('lock release failed; it expires by itself', { resource, error: String(error) }),
        );
      }
    },
  };
}

import { AppError } from '@mercato/platform';

/**
 * Buffers events from many callers and writes them in batches: one `insertMany` and one chain append for up to
 * `maxBatch` events instead of a round trip each. A caller's promise settles only when its events are durable (stored
 * and chained), so a pub/sub message is acknowledged, and an HTTP batch answered, only then.
 *
 * The buffer is bounded: when taking a caller's events would go over `capacity`, the caller is refused at once with
 * `buffer-full` (Retry-After), never queued without limit and never dropped after being taken.
 */
export interface BatchWriterOptions<E> {
  /** Writes one batch durably; throws when nothing or only part may be durable (the callers then try again). */
  write(events: E[]): Promise<void>;
  maxBatch: number;
  /** The longest an event waits for its batch to fill. */
  maxAgeMs: number;
  /** Events held at once, waiting or being written. */
  capacity: number;
}

export interface BatchWriter<E> {
  /** Resolves once every one of `events` is durable; rejects when the buffer is full or the write failed. */
  submit(events: readonly E[]): Promise<void>;
  /** Events held now (waiting or being written). */
  held(): number;
  /** Writes what is buffered and stops taking more. */
  close(): Promise<void>;
}

interface Waiter {
  remaining: number;
  resolve(): void;
  reject(error: unknown): void;
  failed: boolean;
}

interface Pending<E> {
  event: E;
  waiter: Waiter;
}

export const bufferFull = () =>
  new AppError('dependency-unavailable', {
    code: 'buffer-full',
    detail: 'The audit log is taking in events as fast as it can store them; send again shortly',
    retryAfterSeconds: 1,
  });

export const closing = () =>
  new AppError('dependency-unavailable', { code: 'shutting-down', detail: 'The audit service is shutting down; send again', retryAfterSeconds: 1 });

export function createBatchWriter<E>(options: BatchWriterOptions<E>): BatchWriter<E> {
  let queue: Pending<E>[] = [];
  let inWrite = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let closed = false;

  const settle = (batch: Pending<E>[], error: unknown) => {
    for (const { waiter } of batch) {
      if (waiter.failed) continue;
      if (error !== undefined) {
        waiter.failed = true;
        waiter.reject(error);
      } else if (--waiter.remaining === 0) waiter.resolve();
    }
  };

  // One batch at a time: the chain is appended in order, so a second batch would only wait behind the first.
  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      inWrite = batch.length;
      let failure: unknown;
      try {
        await options.write(batch.map((pending) => pending.event));
      } catch (error) {
        failure = error ?? new Error('batch write failed');
      }
      inWrite = 0;
      settle(batch, failure);
      // Waiting for more is only worth it while the batch is not full; a full one goes at once.
      if (queue.length > 0 && queue.length < options.maxBatch && !closed) break;
    }
  }

  function kick(): void {
    if (writing) return;
    if (queue.length === 0) return;
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    writing = drain().finally(() => {
      writing = undefined;
      schedule();
    });
  }

  function schedule(): void {
    if (queue.length === 0 || writing) return;
    if (queue.length >= options.maxBatch || closed) {
      kick();
      return;
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      kick();
    }, options.maxAgeMs);
  }

  return {
    submit(events) {
      if (events.length === 0) return Promise.resolve();
      if (closed) return Promise.reject(closing());
      if (queue.length + inWrite + events.length > options.capacity) return Promise.reject(bufferFull());
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { remaining: events.length, resolve, reject, failed: false };
        for (const event of events) queue.push({ event, waiter });
        schedule();
      });
    },
    held: () => queue.length + inWrite,
    async close() {
      closed = true;
      schedule();
      while (writing) await writing;
    },
  };
}

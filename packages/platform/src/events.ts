import { randomUUID } from 'node:crypto';
import { CommunicationProtocolEnum, DaprClient, LogLevel as DaprLogLevel } from '@dapr/dapr';
import type { Logger } from './logger';
import { isDuplicateKey } from './mongo';
import type { OutboxFields } from './outbox';
import { requestContext } from './request-context';
import { isConcurrentUpdate, type RevisedCollection } from './revisions';
import { withTimeout } from './timing';

/** A domain event as a CloudEvents 1.0 envelope; `type` reads `<domain>.<entity>.<verb>`. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  type: string;
  source: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: T;
  /** Extension: subject (`sub`) of whoever caused the event. */
  actor?: string;
  /** Extension (CloudEvents distributed tracing): keeps the event in the request's trace. */
  traceparent?: string;
  /**
   * Dapr's older name for the same value. daprd keeps a structured event's trace only when `traceid` is present;
   * otherwise it overwrites both fields with a new trace of its own.
   */
  traceid?: string;
}

export interface DomainEventInput<T> {
  type: string;
  subject: string;
  data: T;
  actor?: string | undefined;
}

export interface EventPublisher {
  /** The CloudEvent for a change; write it with the change (see outbox.ts), then call deliver(). */
  describe<T>(input: DomainEventInput<T>): CloudEvent<T>;
  /**
   * Publishes the events a document carries, oldest first, then removes those the sidecar accepted through a claimed
   * revision (so the clean-up can never undo a change that landed meanwhile); a document marked deleted is removed
   * after its last event. Never throws: what is not delivered or cleaned up now, the relay handles later.
   */
  deliver<T extends OutboxFields>(store: RevisedCollection<T>, id: string): Promise<void>;
  /** Adds a collection to those whose undelivered events the relay keeps publishing. */
  watch<T extends OutboxFields>(store: RevisedCollection<T>): void;
  /** Stops the relay. */
  stop(): void;
}

export interface EventPublisherOptions {
  serviceName: string;
  daprHost: string;
  daprHttpPort: number;
  daprApiToken: string;
  pubsubName: string;
  topic: string;
  logger: Logger;
  relayIntervalMs?: number;
  /** A publish slower than this is left to the relay instead of holding the caller's request. */
  publishTimeoutMs?: number;
}

function envelope<T>(source: string, input: DomainEventInput<T>): CloudEvent<T> {
  const event: CloudEvent<T> = {
    specversion: '1.0',
    id: randomUUID(),
    type: input.type,
    source,
    subject: input.subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: input.data,
  };
  if (input.actor) event.actor = input.actor;
  const traceparent = requestContext.getStore()?.traceparent;
  if (traceparent) {
    event.traceparent = traceparent;
    event.traceid = traceparent;
  }
  return event;
}

/** How old an undelivered event must be before a relay treats it as a leftover rather than its writer's to send. */
const leftoverAfterMs = 1000;
/** How long one relay's hold on a document's leftovers lasts; longer than delivering them takes. */
const relayLeaseMs = 15_000;

/**
 * Publishes domain events through the Dapr sidecar as structured CloudEvents, from the outbox of the document they were
 * written with. Delivery is at least once: an event may be published again after a crash between publishing and
 * removing it, always with the same id, on which subscribers de-duplicate.
 */
export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const client = new DaprClient({
    daprHost: options.daprHost,
    daprPort: String(options.daprHttpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    daprApiToken: options.daprApiToken,
    logger: { level: DaprLogLevel.Error },
  });
  const { logger } = options;

  // The SDK waits (with backoff) for the sidecar on first use and sets no timeout afterwards: start it here, off any
  // request's path, and bound every publish so a hung sidecar costs a request at most publishTimeoutMs.
  client.start().catch((error: unknown) => logger.warn('Dapr client not started yet', { error: String(error) }));
  const publishTimeoutMs = options.publishTimeoutMs ?? 2000;

  async function send(event: CloudEvent): Promise<void> {
    const response = await withTimeout(
      client.pubsub.publish(options.pubsubName, options.topic, event, { contentType: 'application/cloudevents+json' }),
      publishTimeoutMs,
      'publish',
    );
    if (response.error) throw response.error;
  }

  async function deliver(store: RevisedCollection<OutboxFields>, id: string): Promise<void> {
    try {
      const doc = await store.collection.findOne({ _id: id, _outboxPending: true }, { projection: { _outbox: 1, _deleted: 1 } });
      if (!doc) return;
      const pending = doc._outbox ?? [];
      const sent = new Set<string>();
      let failure: unknown;
      for (const event of pending) {
        try {
          await send(event);
        } catch (error) {
          failure = error;
          break;
        }
        sent.add(event.id);
        logger.debug('event published', { eventId: event.id, type: event.type });
      }
      if (doc._deleted) {
        // Nobody writes a deleted document, so once its last event is out it can go without a claim.
        if (sent.size === pending.length) await store.remove(id, { _deleted: true });
      } else if (sent.size > 0 || pending.length === 0) {
        // One attempt: if another writer holds the next revision, the relay cleans up later (subscribers de-duplicate
        // on the event id, so re-sending is safe).
        await store.write(
          id,
          (current) => {
            const remaining = (current._outbox ?? []).filter((event) => !sent.has(event.id));
            const settled = remaining.length === (current._outbox ?? []).length && current._outboxPending === remaining.length > 0;
            if (settled) return undefined;
            return { ...current, _outbox: remaining, _outboxPending: remaining.length > 0 };
          },
          { budgetMs: 0 },
        );
      }
      if (failure) throw failure;
    } catch (error) {
      if (isConcurrentUpdate(error)) logger.debug('outbox clean-up left to the relay', { subject: id });
      else logger.warn('events not delivered yet; the relay will retry', { subject: id, error: String(error) });
    }
  }

  const watched = new Set<RevisedCollection<OutboxFields>>();
  let relaying = false;
  async function relay(): Promise<void> {
    if (relaying) return;
    relaying = true;
    try {
      for (const store of watched) {
        const pending = await store.collection
          .find({ _outboxPending: true }, { projection: { _id: 1, _outbox: 1 } })
          .limit(100)
          .toArray();
        for (const doc of pending) {
          // The writer delivers its own events right after the write: leave it a moment before calling them leftovers.
          const oldest = Date.parse(doc._outbox?.[0]?.time ?? '');
          if (Number.isFinite(oldest) && Date.now() - oldest < leftoverAfterMs) continue;
          const lease = await takeRelayLease(store, String(doc._id));
          if (!lease) continue;
          await deliver(store, String(doc._id));
          await lease.release();
        }
      }
    } catch (error) {
      logger.debug('outbox relay skipped', { error: String(error) });
    } finally {
      relaying = false;
    }
  }
  /**
   * Every replica runs a relay over the same collection. A lease — an insert into the claims collection that one relay
   * wins per document and lease period — keeps two replicas from sending the same leftovers at once; a relay that dies
   * holding one hands over when the next period starts. Delivery stays at least once (same event id) either way.
   */
  async function takeRelayLease(store: RevisedCollection<OutboxFields>, id: string): Promise<{ release(): Promise<void> } | undefined> {
    const leaseId = `relay:${id}:${Math.floor(Date.now() / relayLeaseMs)}`;
    try {
      await store.claims.insertOne({ _id: leaseId, at: new Date(), token: randomUUID() });
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
    return { release: () => store.claims.deleteOne({ _id: leaseId }).then(() => undefined, () => undefined) };
  }

  const timer = setInterval(() => void relay(), options.relayIntervalMs ?? 5000);
  timer.unref();

  // Only the outbox fields are touched, so any collection of documents that carry them will do.
  const asOutbox = <T extends OutboxFields>(store: RevisedCollection<T>) => store as unknown as RevisedCollection<OutboxFields>;
  return {
    describe: (input) => envelope(options.serviceName, input),
    deliver: (store, id) => deliver(asOutbox(store), id),
    watch: (store) => {
      watched.add(asOutbox(store));
    },
    stop: () => clearInterval(timer),
  };
}

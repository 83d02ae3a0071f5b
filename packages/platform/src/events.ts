import { randomUUID } from 'node:crypto';
import { CommunicationProtocolEnum, DaprClient, LogLevel as DaprLogLevel } from '@dapr/dapr';
import type { Logger } from './logger';
import { isDuplicateKey } from './mongo';
import type { OutboxFields } from './outbox';
import { requestContext, type Actor } from './request-context';
import { isConcurrentUpdate, outboxMarkIdOf, outboxMarkOf, type RevisedCollection, type WriteResult } from './revisions';
import { withTimeout } from './timing';
import { escapeRegex } from './validation';

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
  /** Extension: subject (`sub`) of whoever caused the event (the service's own name for its background work). */
  actor?: string;
  /** Extension: `user`, `service` or `anonymous` (the audit envelope's `actor.kind`). */
  actorkind?: Actor['kind'];
  /** Extension: the actor's display name (`preferred_username`), when known. */
  actorname?: string;
  /** Extension: the version of `data`'s shape for this `type`; a consumer reads old and new shapes by it. */
  schemaversion?: number;
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
  /** The subject of whoever caused it; omitted for the service's own work (e.g. a start-up repair). */
  actor?: string | undefined;
  /** The version of `data`'s shape; 1 unless the type's data changed shape. */
  schemaVersion?: number;
}

export interface EventPublisher {
  /** The CloudEvent for a change; write it with the change (see outbox.ts), then call deliver(). */
  describe<T>(input: DomainEventInput<T>): CloudEvent<T>;
  /**
   * Publishes the events a document carries, oldest first, then removes those the sidecar accepted through a claimed
   * revision (so the clean-up can never undo a change that landed meanwhile); a document marked deleted is removed
   * after its last event. Never throws: what is not delivered or cleaned up now, the relay handles later. `written`,
   * the image the caller's write just stored (as `insert` and `write` return it), saves reading it again and lets the
   * write's own outbox mark go by key.
   */
  deliver<T extends OutboxFields>(store: RevisedCollection<T>, id: string, written?: T): Promise<void>;
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

/**
 * Who caused an event, as far as the service knows: the request's signed-in caller when the use case names them, the
 * service itself for work no request asked for, nobody (`anonymous`) for a request without a token.
 */
function actorFields(serviceName: string, named: string | undefined): Pick<CloudEvent, 'actor' | 'actorkind' | 'actorname'> {
  const context = requestContext.getStore();
  if (!named) return context ? { actor: 'anonymous', actorkind: 'anonymous' } : { actor: serviceName, actorkind: 'service' };
  const known = context?.actor?.id === named ? context.actor : undefined;
  const fields: Pick<CloudEvent, 'actor' | 'actorkind' | 'actorname'> = { actor: named, actorkind: known?.kind ?? 'user' };
  if (known?.name) fields.actorname = known.name;
  return fields;
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
    ...actorFields(source, input.actor),
    schemaversion: input.schemaVersion ?? 1,
  };
  const traceparent = requestContext.getStore()?.traceparent;
  if (traceparent) {
    event.traceparent = traceparent;
    event.traceid = traceparent;
  }
  return event;
}

/** How old an undelivered event must be before a relay treats it as a leftover rather than its writer's to send. */
const leftoverAfterMs = 1000;
/** A mark this old whose write never landed belongs to a crashed writer (far above the revision claims' staleness). */
const abandonedMarkMs = 60_000;
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

  /**
   * Removes the outbox marks of writes whose events are all out: the document is gone, or it is not pending at or after
   * the mark's revision. A mark of a later write (inserted before that write lands) stays — unless it is so old that
   * its write never landed: a crashed writer's claim is rolled forward by the next writer, whose own mark and delivery
   * then carry those events.
   */
  async function settleMarks(store: RevisedCollection<OutboxFields>, id: string): Promise<void> {
    const marks = await store.outboxMarks.find({ _id: { $regex: `^${escapeRegex(id)}:` } }).toArray();
    if (marks.length === 0) return;
    const doc = await store.collection.findOne({ _id: id }, { projection: { _rev: 1, _outboxPending: 1 } });
    const rev = doc?._rev ?? 0;
    const settled = marks.filter((mark) => {
      const marked = outboxMarkOf(mark._id).rev;
      if (!doc) return true;
      if (marked > rev) return Date.now() - new Date(mark.at).getTime() > abandonedMarkMs;
      return !doc._outboxPending;
    });
    if (settled.length) await store.outboxMarks.deleteMany({ _id: { $in: settled.map((mark) => mark._id) } });
  }

  async function deliver(store: RevisedCollection<OutboxFields>, id: string, written?: OutboxFields): Promise<void> {
    try {
      // The image just written names the events to send (a concurrent delivery may have sent some already: subscribers
      // de-duplicate on the event id). Otherwise `{_id}` alone: the one filter FerretDB's SQLite backend looks up by key.
      const found = written ?? (await store.collection.findOne({ _id: id }, { projection: { _outbox: 1, _deleted: 1, _outboxPending: 1 } }));
      const doc = found?._outboxPending ? found : undefined;
      if (!doc) {
        await settleMarks(store, id);
        return;
      }
      const pending = doc._outbox ?? [];
      const sent = new Set<string>();
      let cleaned: WriteResult<OutboxFields> | undefined;
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
        cleaned = await store.write(
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
      if (written?._rev !== undefined && cleaned && cleaned.status !== 'missing' && !cleaned.doc._outboxPending) {
        // Nothing is pending at or after the caller's revision, so its write's mark (inserted under that revision)
        // is settled: removed by key, instead of searching the document's marks and reading it again. An older mark
        // left by a clean-up that lost a race is the relay's, which settles every mark of a document it visits.
        await store.outboxMarks.deleteOne({ _id: outboxMarkIdOf(id, written._rev) });
        return;
      }
      await settleMarks(store, id);
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
        // The marks, not the collection: FerretDB would read every document to find the few with pending events.
        const marks = await store.outboxMarks.find({}).limit(100).toArray();
        const ids = new Set<string>();
        for (const mark of marks) {
          // The writer delivers its own events right after the write: leave it a moment before calling them leftovers.
          if (Date.now() - new Date(mark.at).getTime() >= leftoverAfterMs) ids.add(outboxMarkOf(mark._id).id);
        }
        for (const id of ids) {
          const lease = await takeRelayLease(store, id);
          if (!lease) continue;
          await deliver(store, id);
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
    deliver: (store, id, written) => deliver(asOutbox(store), id, written),
    watch: (store) => {
      watched.add(asOutbox(store));
    },
    stop: () => clearInterval(timer),
  };
}

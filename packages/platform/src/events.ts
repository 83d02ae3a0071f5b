import { randomUUID } from 'node:crypto';
import { CommunicationProtocolEnum, DaprClient, LogLevel as DaprLogLevel } from '@dapr/dapr';
import type { Collection, Db } from 'mongodb';
import type { Logger } from './logger';
import { requestContext } from './request-context';

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
  /** Publishes now, or keeps the event in the outbox and publishes it later; it never drops one. */
  publish<T>(event: DomainEventInput<T>): Promise<CloudEvent<T>>;
  /** Stops the outbox relay. */
  stop(): void;
}

export interface EventPublisherOptions {
  serviceName: string;
  daprHost: string;
  daprHttpPort: number;
  daprApiToken: string;
  pubsubName: string;
  topic: string;
  /** Where events wait when the broker or sidecar is down. */
  db: Db;
  logger: Logger;
  relayIntervalMs?: number;
  /** A publish slower than this goes to the outbox instead of holding the caller's request. */
  publishTimeoutMs?: number;
}

interface OutboxEntry {
  _id: string;
  event: CloudEvent;
  attempts: number;
  lastError: string;
  createdAt: Date;
}

export function envelope<T>(source: string, input: DomainEventInput<T>): CloudEvent<T> {
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

/**
 * Publishes domain events through the Dapr sidecar as structured CloudEvents. When publishing fails (sidecar or broker
 * down), the event goes to an `outbox` collection and a relay retries it, so an accepted write never loses its event.
 * The event id is stable across retries; subscribers de-duplicate on it.
 */
export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const client = new DaprClient({
    daprHost: options.daprHost,
    daprPort: String(options.daprHttpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    daprApiToken: options.daprApiToken,
    logger: { level: DaprLogLevel.Error },
  });
  const outbox: Collection<OutboxEntry> = options.db.collection<OutboxEntry>('outbox');
  const { logger } = options;

  // The SDK waits (with backoff) for the sidecar on first use and sets no timeout afterwards: start it here, off any
  // request's path, and bound every publish so a hung sidecar costs a request at most publishTimeoutMs.
  client.start().catch((error: unknown) => logger.warn('Dapr client not started yet', { error: String(error) }));
  const publishTimeoutMs = options.publishTimeoutMs ?? 2000;

  async function send(event: CloudEvent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`publish timed out after ${publishTimeoutMs}ms`)), publishTimeoutMs);
    });
    try {
      const response = await Promise.race([
        client.pubsub.publish(options.pubsubName, options.topic, event, { contentType: 'application/cloudevents+json' }),
        timeout,
      ]);
      if (response.error) throw response.error;
    } finally {
      clearTimeout(timer);
    }
  }

  let relaying = false;
  async function relay(): Promise<void> {
    if (relaying) return;
    relaying = true;
    try {
      const pending = await outbox.find({}).sort({ createdAt: 1 }).limit(100).toArray();
      for (const entry of pending) {
        try {
          await send(entry.event);
          await outbox.deleteOne({ _id: entry._id });
          logger.info('outbox event published', { eventId: entry._id, type: entry.event.type });
        } catch (error) {
          await outbox.updateOne({ _id: entry._id }, { $inc: { attempts: 1 }, $set: { lastError: String(error) } });
          break; // the broker is still down; try again on the next tick
        }
      }
    } catch (error) {
      logger.debug('outbox relay skipped', { error: String(error) });
    } finally {
      relaying = false;
    }
  }
  const timer = setInterval(() => void relay(), options.relayIntervalMs ?? 5000);
  timer.unref();

  return {
    async publish(input) {
      const event = envelope(options.serviceName, input);
      try {
        await send(event);
        logger.debug('event published', { eventId: event.id, type: event.type });
      } catch (error) {
        logger.warn('event publish failed; kept in outbox for retry', { eventId: event.id, error: String(error) });
        await outbox.insertOne({ _id: event.id, event, attempts: 1, lastError: String(error), createdAt: new Date() });
      }
      return event;
    },
    stop: () => clearInterval(timer),
  };
}

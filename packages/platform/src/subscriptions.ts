import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { TopicEventResponse_TopicEventResponseStatus as Status, type TopicEventRequest } from '@dapr/dapr/proto/dapr/proto/runtime/v1/appcallback_pb';
import { Dapr, type SubscribeTopicEventsRequestAlpha1 } from '@dapr/dapr/proto/dapr/proto/runtime/v1/dapr_pb';
import type { CloudEvent } from './events';
import type { Logger } from './logger';
import { sleep } from './timing';

/** What a handler decides about one event: done, try again later, or never deliver it again. */
export type Outcome = 'success' | 'retry' | 'drop';

export interface SubscriptionOptions {
  daprHost: string;
  daprGrpcPort: number;
  daprApiToken: string;
  pubsubName: string;
  topic: string;
  logger: Logger;
  /**
   * How many events may be in the handler at once (default 1: one at a time, in order). A handler that acknowledges
   * only after a batch is durable needs a window as large as its batches. daprd bounds what it hands out unacknowledged
   * by the component's `concurrency`; set that at least as large.
   */
  maxInFlight?: number;
}

export interface Subscription {
  /** Resolves once daprd has confirmed the subscription. */
  ready: Promise<void>;
  close(): void;
}

const statusOf: Record<Outcome, Status> = { success: Status.SUCCESS, retry: Status.RETRY, drop: Status.DROP };

/**
 * Receives a topic over a streaming subscription: the app opens a gRPC stream to its own sidecar and pulls messages.
 * Deliveries therefore never cross daprd's app channel, where the bearer check of the app pipeline would refuse them
 * (a broker delivery carries no user token). Every event is acknowledged explicitly; a thrown handler means RETRY.
 */
export function subscribe(options: SubscriptionOptions, handle: (event: CloudEvent) => Promise<Outcome>): Subscription {
  const { logger } = options;
  const transport = createGrpcTransport({
    baseUrl: `http://${options.daprHost}:${options.daprGrpcPort}`,
    interceptors: [
      (next) => async (request) => {
        request.header.set('dapr-api-token', options.daprApiToken);
        return next(request);
      },
    ],
  });
  const client = createClient(Dapr, transport);
  const abort = new AbortController();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const maxInFlight = Math.max(1, options.maxInFlight ?? 1);

  async function handleOne(raw: TopicEventRequest): Promise<Outcome> {
    try {
      const event = {
        ...(raw.extensions ?? {}),
        specversion: raw.specVersion,
        id: raw.id,
        type: raw.type,
        source: raw.source,
        datacontenttype: raw.dataContentType,
        data: raw.data.length ? JSON.parse(Buffer.from(raw.data).toString('utf8')) : undefined,
      } as unknown as CloudEvent;
      return await handle(event);
    } catch (error) {
      logger.warn('event handling failed; asking for redelivery', { eventId: raw.id, error: String(error) });
      return 'retry';
    }
  }

  async function runOnce(): Promise<void> {
    let inFlight = 0;
    let slotFreed: (() => void) | undefined;
    const queued: SubscribeTopicEventsRequestAlpha1[] = [];
    let wake: (() => void) | undefined;
    const send = (request: SubscribeTopicEventsRequestAlpha1) => {
      queued.push(request);
      wake?.();
    };
    const wakeOnAbort = () => {
      wake?.();
      slotFreed?.();
    };
    abort.signal.addEventListener('abort', wakeOnAbort, { once: true });
    async function* requests(): AsyncGenerator<SubscribeTopicEventsRequestAlpha1> {
      try {
        while (!abort.signal.aborted) {
          while (queued.length) yield queued.shift()!;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        abort.signal.removeEventListener('abort', wakeOnAbort);
      }
    }
    send({
      subscribeTopicEventsRequestType: { case: 'initialRequest', value: { pubsubName: options.pubsubName, topic: options.topic } },
    } as SubscribeTopicEventsRequestAlpha1);

    for await (const response of client.subscribeTopicEventsAlpha1(requests(), { signal: abort.signal })) {
      const message = response.subscribeTopicEventsResponseType;
      if (message.case === 'initialResponse') {
        logger.info('subscribed', { pubsub: options.pubsubName, topic: options.topic });
        markReady();
        continue;
      }
      if (message.case !== 'eventMessage') continue;
      const raw = message.value;
      inFlight += 1;
      void handleOne(raw).then((outcome) => {
        inFlight -= 1;
        send({
          subscribeTopicEventsRequestType: { case: 'eventProcessed', value: { id: raw.id, status: { status: statusOf[outcome] } } },
        } as SubscribeTopicEventsRequestAlpha1);
        slotFreed?.();
      });
      // A full window stops reading the stream: gRPC flow control then holds daprd back.
      while (inFlight >= maxInFlight && !abort.signal.aborted) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        slotFreed = undefined;
      }
    }
  }

  void (async () => {
    let delayMs = 250;
    while (!abort.signal.aborted) {
      try {
        await runOnce();
      } catch (error) {
        if (abort.signal.aborted) break;
        logger.warn('subscription stream ended; reconnecting', { topic: options.topic, error: String(error), delayMs });
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  })();

  return { ready, close: () => abort.abort() };
}

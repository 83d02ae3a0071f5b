import { AppError, subscribe, type CloudEvent, type Logger, type Outcome, type Subscription } from '@mercato/platform';
import { envelopeOfCloudEvent } from '../../domain/audit-event-schema';
import type { AuditUseCases } from '../../domain/audit-use-cases';

export interface AuditSubscriptionOptions {
  daprHost: string;
  daprGrpcPort: number;
  daprApiToken: string;
  pubsubName: string;
  topic: string;
  maxInFlight: number;
  logger: Logger;
}

/**
 * Every service's events, from the topic: each is acknowledged only once the batch holding it is durable, so many are
 * in flight at once (`maxInFlight`). An event that is not a valid audit event is dropped with a log line (retrying it
 * would fail the same way forever and hold back the ones behind it); a full buffer or a failed write asks the broker to
 * deliver it again.
 */
export function subscribeToEvents(useCases: AuditUseCases, options: AuditSubscriptionOptions): Subscription {
  return subscribe(
    {
      daprHost: options.daprHost,
      daprGrpcPort: options.daprGrpcPort,
      daprApiToken: options.daprApiToken,
      pubsubName: options.pubsubName,
      topic: options.topic,
      logger: options.logger,
      maxInFlight: options.maxInFlight,
    },
    async (event: CloudEvent): Promise<Outcome> => {
      if (!event || typeof event !== 'object') return 'drop';
      try {
        const outcome = await useCases.recordFromTopic(envelopeOfCloudEvent(event as CloudEvent & Record<string, unknown>));
        return outcome === 'stored' ? 'success' : 'drop';
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'buffer-full')) {
          options.logger.warn('event not stored yet; asking for redelivery', { eventId: event.id, error: String(error) });
        }
        return 'retry';
      }
    },
  );
}

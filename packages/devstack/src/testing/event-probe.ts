import { createLogger, subscribe, type CloudEvent } from '@mercato/platform';
import type { Sidecar } from '../stack';

export interface EventProbe {
  /** Resolves once daprd confirmed the subscription. */
  ready: Promise<void>;
  received(): CloudEvent[];
  close(): void;
}

/**
 * A real subscriber for the integration tests: its own daprd delivers the `events` topic through Redis streams over a
 * streaming subscription, exactly as a service would receive it. It stands in for the audit service until that exists;
 * nothing about Dapr is faked.
 */
export function startEventProbe(sidecar: Sidecar, pubsubName = 'events', topic = 'events'): EventProbe {
  const events: CloudEvent[] = [];
  const subscription = subscribe(
    {
      daprHost: '127.0.0.1',
      daprGrpcPort: sidecar.grpcPort,
      daprApiToken: sidecar.apiToken,
      pubsubName,
      topic,
      logger: createLogger('event-probe', 'warn'),
    },
    async (event) => {
      events.push(event);
      return 'success';
    },
  );
  return { ready: subscription.ready, received: () => [...events], close: subscription.close };
}

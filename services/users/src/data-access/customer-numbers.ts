import type { ServiceInvoker } from '@mercato/platform';

/** Customer numbers from the sequence service's `customers` sequence: unique and never reused, across replicas. */
export interface CustomerNumbers {
  next(): Promise<number>;
}

/**
 * Asked with the users service's own identity (the sequence service serves `service` and `admin`), through Dapr
 * service invocation. Its problems pass through: 404 when the sequence was never created, 503 when it cannot answer.
 */
export function createCustomerNumbers(invoker: ServiceInvoker, appId: string, sequence: string): CustomerNumbers {
  return {
    async next() {
      const { body } = await invoker.invoke<{ value: number }>(appId, `sequences/${encodeURIComponent(sequence)}/next`, { method: 'POST', as: 'service' });
      return body.value;
    },
  };
}

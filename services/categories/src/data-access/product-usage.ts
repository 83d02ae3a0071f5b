import { AppError, type ServiceInvoker } from '@mercato/platform';
import { z } from 'zod';

/** How many products a category holds, as the products service counts them in its own database. */
export interface ProductUsage {
  count(categoryId: string): Promise<number>;
}

/** The products service's answer (its contract: `GET /products/category-usage/<categoryId>`). */
const usageSchema = z.object({ categoryId: z.string(), products: z.number().int().min(0) });

export const productsAppId = 'products';

const unconfirmed = (detail: string, cause?: unknown) =>
  new AppError('dependency-unavailable', {
    code: 'products-unavailable',
    detail: `Could not count the category's products (${detail}); nothing was deleted, try again`,
    cause,
    retryAfterSeconds: 2,
  });

/**
 * Asks products through Dapr service invocation, with the caller's token (the invoker forwards it). Whatever is not a
 * count — products down, timing out, refusing, or answering something else — is a 503: a delete must never go ahead on
 * a guess.
 */
export function productUsageThrough(invoker: ServiceInvoker): ProductUsage {
  return {
    async count(categoryId) {
      let body: unknown;
      try {
        ({ body } = await invoker.invoke(productsAppId, `products/category-usage/${encodeURIComponent(categoryId)}`, { timeoutMs: 5000 }));
      } catch (error) {
        if (error instanceof AppError && error.kind === 'dependency-unavailable') throw error;
        throw unconfirmed(error instanceof AppError ? `${productsAppId} answered ${error.status} ${error.code}` : String(error), error);
      }
      const usage = usageSchema.safeParse(body);
      if (!usage.success || usage.data.categoryId !== categoryId) throw unconfirmed(`${productsAppId} answered something else than a count`);
      return usage.data.products;
    },
  };
}

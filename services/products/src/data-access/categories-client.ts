import { AppError, type ServiceInvoker } from '@mercato/platform';

/** A category as products needs it: where it sits in the tree. */
export interface CategoryPlace {
  id: string;
  ancestors: string[];
  updatedAt: string;
}

/** The categories service, reached through Dapr service invocation (the caller's token and traceparent go along). */
export interface CategoriesClient {
  /** The ids among `ids` that name no category. */
  missing(ids: readonly string[]): Promise<string[]>;
  /** Every category's place in the tree, with the service's own identity (no user behind a start-up load). */
  places(): Promise<CategoryPlace[]>;
}

interface CategoryPage {
  items: CategoryPlace[];
  nextCursor: string | null;
}

export function createCategoriesClient(invoker: ServiceInvoker, appId: string): CategoriesClient {
  return {
    async missing(ids) {
      const answers = await Promise.all(
        ids.map(async (id) => {
          try {
            await invoker.invoke(appId, `categories/${encodeURIComponent(id)}`);
            return undefined;
          } catch (error) {
            if (error instanceof AppError && error.status === 404) return id;
            throw error;
          }
        }),
      );
      return answers.filter((id): id is string => id !== undefined);
    },

    async places() {
      const all: CategoryPlace[] = [];
      let cursor: string | undefined;
      do {
        const { body } = await invoker.invoke<CategoryPage>(appId, 'categories', {
          as: 'service',
          query: { limit: 200, ...(cursor ? { cursor } : {}) },
        });
        for (const { id, ancestors, updatedAt } of body.items) all.push({ id, ancestors, updatedAt });
        cursor = body.nextCursor ?? undefined;
      } while (cursor);
      return all;
    },
  };
}

import { randomUUID } from 'node:crypto';

/** What the integration tests read back: the service's own output types, and the platform's problem document. */
export type { Category, CategoryPage as Page } from '../src/domain/category-schema';
export type { ProblemDocument as Problem } from '@mercato/platform';

/** Each test makes its own data: a slug no other test (or earlier run) uses. */
export const uniqueSlug = (base: string) => `${base}-${randomUUID().slice(0, 8)}`;

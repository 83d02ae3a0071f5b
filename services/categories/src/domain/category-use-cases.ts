import { randomUUID } from 'node:crypto';
import { AppError, pageOf, pageRequestOf, type EventPublisher } from '@mercato/platform';
import type { CategoryRepository, ListFilter } from '../data-access/category-repository';
import type { Category, CategoryChanges, CategoryPage, CategoryQuery, NewCategory } from './category-schema';

export const categoryEvents = {
  created: 'catalog.category.created',
  updated: 'catalog.category.updated',
  deleted: 'catalog.category.deleted',
} as const;

export interface CategoryUseCases {
  create(input: NewCategory, actor: string): Promise<Category>;
  /** `ref` is an id or a slug, in any case. */
  get(ref: string): Promise<Category>;
  list(query: CategoryQuery): Promise<CategoryPage>;
  update(id: string, changes: CategoryChanges, actor: string): Promise<Category>;
  remove(id: string, actor: string): Promise<void>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Finds a category named by its id or its slug, in any case. A UUID-shaped reference is tried as an id first and then
 * as a slug, since a slug may look like a UUID.
 */
export async function findCategoryByRef(repository: CategoryRepository, ref: string): Promise<Category | undefined> {
  const lowered = ref.toLowerCase();
  if (uuidPattern.test(lowered)) {
    const byId = await repository.findById(lowered);
    if (byId) return byId;
  }
  return repository.findBySlug(lowered);
}

const duplicateSlug = (slug: string | undefined) =>
  new AppError('conflict', { code: 'duplicate-slug', detail: `The slug "${slug}" is already used by another category` });
const notFound = (ref: string) => new AppError('not-found', { code: 'category-not-found', detail: `No category "${ref}"` });
const parentNotFound = (id: string) =>
  new AppError('unprocessable', { code: 'parent-not-found', detail: `The parent category "${id}" does not exist` });

export function createCategoryUseCases(repository: CategoryRepository, events: EventPublisher): CategoryUseCases {
  const findByRef = (ref: string) => findCategoryByRef(repository, ref);

  async function ancestorsBelow(parentId: string | null): Promise<string[]> {
    if (!parentId) return [];
    const parent = await repository.findById(parentId);
    if (!parent) throw parentNotFound(parentId);
    return [...parent.ancestors, parent.id];
  }

  async function existing(id: string): Promise<Category> {
    const category = await repository.findById(id);
    if (!category) throw notFound(id);
    return category;
  }

  return {
    async create(input, actor) {
      const now = new Date().toISOString();
      const category: Category = {
        id: randomUUID(),
        ...input,
        ancestors: await ancestorsBelow(input.parentId),
        createdAt: now,
        updatedAt: now,
      };
      const event = events.describe({ type: categoryEvents.created, subject: category.id, data: category, actor });
      const outcome = await repository.insert(category, event);
      if (!outcome.ok) throw duplicateSlug(input.slug);
      return category;
    },

    async get(ref) {
      const category = await findByRef(ref);
      if (!category) throw notFound(ref);
      return category;
    },

    async list(query) {
      const page = pageRequestOf(query, 1);
      const filter: ListFilter = { after: page.after?.[0] as string | undefined, limit: page.limit + 1, withTotal: page.withTotal };
      if (query.parent === 'root') filter.parentId = null;
      else if (query.parent !== undefined) {
        // A parent that does not exist has no children: an empty page, as for an unknown id.
        filter.parentId = (await findByRef(query.parent))?.id ?? query.parent;
      }
      if (query.q) filter.text = query.q;
      const { items, total } = await repository.list(filter);
      return pageOf(items, page, (category) => [category.slug], total);
    },

    async update(id, changes, actor) {
      const before = await existing(id);
      const moving = changes.parentId !== undefined && changes.parentId !== before.parentId;
      let ancestors = before.ancestors;
      if (moving) {
        if (changes.parentId === id) throw new AppError('unprocessable', { code: 'category-cycle', detail: 'A category cannot be its own parent' });
        ancestors = await ancestorsBelow(changes.parentId ?? null);
        if (ancestors.includes(id)) {
          throw new AppError('unprocessable', { code: 'category-cycle', detail: 'A category cannot move below its own descendant' });
        }
      }
      const applied = { ...changes, ancestors, updatedAt: new Date().toISOString() };
      const event = events.describe({ type: categoryEvents.updated, subject: id, data: { before, after: { ...before, ...applied } }, actor });
      const outcome = await repository.update(id, applied, event);
      if (!outcome.ok) throw outcome.reason === 'duplicate-slug' ? duplicateSlug(changes.slug) : notFound(id);
      if (moving) await repository.moveDescendants(id, ancestors);
      return outcome.category;
    },

    async remove(id, actor) {
      const category = await existing(id);
      const children = await repository.countChildren(id);
      if (children > 0) {
        throw new AppError('conflict', { code: 'category-has-children', detail: `The category has ${children} sub-categories; move or delete them first` });
      }
      const event = events.describe({ type: categoryEvents.deleted, subject: id, data: category, actor });
      if (!(await repository.delete(id, event))) throw notFound(id);
    },
  };
}

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
  /** `ref` is an id or a slug, in any case. */
  update(ref: string, changes: CategoryChanges, actor: string): Promise<Category>;
  /** `ref` is an id or a slug, in any case. */
  remove(ref: string, actor: string): Promise<void>;
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

  async function existing(ref: string): Promise<Category> {
    const category = await findByRef(ref);
    if (!category) throw notFound(ref);
    return category;
  }

  /** Writes `changes` onto whatever the category holds by then; `ancestors` only under the tree claim. */
  async function write(id: string, ref: string, changes: CategoryChanges, actor: string, ancestors?: string[]): Promise<Category> {
    const outcome = await repository.update(id, (before) => {
      const applied = { ...changes, ...(ancestors ? { ancestors } : {}), updatedAt: new Date().toISOString() };
      const event = events.describe({ type: categoryEvents.updated, subject: id, data: { before, after: { ...before, ...applied } }, actor });
      return { changes: applied, event };
    });
    if (!outcome.ok) throw outcome.reason === 'duplicate-slug' ? duplicateSlug(changes.slug) : notFound(ref);
    return outcome.category;
  }

  const cycle = (detail: string) => new AppError('unprocessable', { code: 'category-cycle', detail });

  return {
    async create(input, actor) {
      const id = randomUUID();
      const insert = async () => {
        const now = new Date().toISOString();
        const category: Category = { id, ...input, ancestors: await ancestorsBelow(input.parentId), createdAt: now, updatedAt: now };
        const event = events.describe({ type: categoryEvents.created, subject: id, data: category, actor });
        const outcome = await repository.insert(category, event);
        if (!outcome.ok) throw duplicateSlug(input.slug);
        return category;
      };
      // Under a parent it is a structural change: the parent must not be deleted or moved while the path is copied.
      return input.parentId ? repository.structural({ op: 'create', id, parentId: input.parentId }, insert) : insert();
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

    async update(ref, changes, actor) {
      const { id } = await existing(ref);
      if (changes.parentId === undefined) return write(id, ref, changes, actor);

      // A move changes the tree: checked and written under the tree claim, so two moves that are each valid alone
      // (A under B, B under A) are decided one after the other, and the second sees the first.
      return repository.structural({ op: 'move', id, parentId: changes.parentId }, async () => {
        const before = await existing(id);
        if (changes.parentId === before.parentId) return write(id, ref, changes, actor);
        if (changes.parentId === id) throw cycle('A category cannot be its own parent');
        const ancestors = await ancestorsBelow(changes.parentId ?? null);
        if (ancestors.includes(id)) throw cycle('A category cannot move below its own descendant');
        const moved = await write(id, ref, changes, actor, ancestors);
        await repository.rebaseDescendants(id);
        return moved;
      });
    },

    async remove(ref, actor) {
      const { id } = await existing(ref);
      await repository.structural({ op: 'delete', id }, async () => {
        await existing(id);
        const children = await repository.countChildren(id);
        if (children > 0) {
          throw new AppError('conflict', { code: 'category-has-children', detail: `The category has ${children} sub-categories; move or delete them first` });
        }
        const deleted = await repository.delete(id, (category) =>
          events.describe({ type: categoryEvents.deleted, subject: id, data: category, actor }),
        );
        if (!deleted) throw notFound(ref);
      });
    },
  };
}

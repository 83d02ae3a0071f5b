import { randomUUID } from 'node:crypto';
import { AppError, pageOf, pageRequestOf, staleVersion, type EventPublisher, type FieldIssue } from '@mercato/platform';
import type { CategoryRepository, ListFilter, StaleOutcome } from '../data-access/category-repository';
import type { ProductUsage } from '../data-access/product-usage';
import type { Category, CategoryChanges, CategoryPage, CategoryQuery, CategoryTree, NewCategory } from './category-schema';
import { nestCategories } from './category-tree';

export const categoryEvents = {
  created: 'catalog.category.created',
  updated: 'catalog.category.updated',
  deleted: 'catalog.category.deleted',
} as const;

export interface CategoryUseCases {
  create(input: NewCategory, actor: string): Promise<Category>;
  /** `ref` is an id or a slug, in any case. */
  get(ref: string): Promise<Category>;
  /** A page of the flat list, or with `tree=true` the nested tree. */
  list(query: CategoryQuery): Promise<CategoryPage | CategoryTree>;
  /**
   * `ref` is an id or a slug, in any case. With `requiredVersion` (from `If-Match`) the change is made only while the
   * category is still at that version; else 412 `stale-version`.
   */
  update(ref: string, changes: CategoryChanges, actor: string, requiredVersion?: number): Promise<Category>;
  /** As `update`; refused while the category has sub-categories or products. */
  remove(ref: string, actor: string, requiredVersion?: number): Promise<void>;
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
const stale = (required: number, outcome: StaleOutcome) => staleVersion('The category', required, outcome.current);
const checkVersion = (category: Category, required: number | undefined) => {
  if (required !== undefined && category.version !== required) throw staleVersion('The category', required, category.version);
};

/**
 * The tree is the whole (sub)tree in one answer, not a page: paging and text search do not apply to it. Refused for the
 * state of the request rather than its form (422), since each field alone is valid.
 */
function refuseTreeWithPaging(query: CategoryQuery): void {
  const issues: FieldIssue[] = [];
  if (query.q !== undefined) issues.push({ path: 'query.q', message: 'cannot be combined with tree=true' });
  if (query.cursor) issues.push({ path: 'query.cursor', message: 'cannot be combined with tree=true: the tree is not paged' });
  if (query.total === 'true') issues.push({ path: 'query.total', message: 'cannot be combined with tree=true: the tree is not paged' });
  if (issues.length) {
    throw new AppError('unprocessable', { code: 'tree-not-pageable', detail: 'The tree comes whole, without paging or text search', issues });
  }
}

export interface CategoryCollaborators {
  events: EventPublisher;
  /** Counts a category's products (the products service); a delete asks it before it goes ahead. */
  products: ProductUsage;
}

export function createCategoryUseCases(repository: CategoryRepository, { events, products }: CategoryCollaborators): CategoryUseCases {
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

  /**
   * Writes `changes` onto whatever the category holds by then (only at `required`, when given); `ancestors` only under
   * the tree claim.
   */
  async function write(id: string, ref: string, changes: CategoryChanges, actor: string, required?: number, ancestors?: string[]): Promise<Category> {
    const outcome = await repository.update(id, (before) => {
      const applied = { ...changes, ...(ancestors ? { ancestors } : {}), updatedAt: new Date().toISOString() };
      // The repository bumps the version; the event shows the category as the write leaves it.
      const after = { ...before, ...applied, version: before.version + 1 };
      const event = events.describe({ type: categoryEvents.updated, subject: id, data: { before, after }, actor });
      return { changes: applied, event };
    }, required);
    if (outcome.ok) return outcome.category;
    if (outcome.reason === 'stale-version') throw stale(required ?? 0, outcome);
    throw outcome.reason === 'duplicate-slug' ? duplicateSlug(changes.slug) : notFound(ref);
  }

  /** The top level a query names: the roots, a parent's id, or undefined for a parent that does not exist. */
  async function topOf(parent: string | undefined): Promise<{ id: string | null } | undefined> {
    if (parent === undefined || parent === 'root') return { id: null };
    const found = await findByRef(parent);
    return found ? { id: found.id } : undefined;
  }

  async function tree(query: CategoryQuery): Promise<CategoryTree> {
    refuseTreeWithPaging(query);
    const top = await topOf(query.parent);
    // A parent that does not exist has no subtree: an empty tree, as the flat list gives an empty page.
    if (!top) return { items: [] };
    const categories = await repository.listSubtree(top.id ?? undefined);
    return { items: nestCategories(categories, top.id, query.depth) };
  }

  const cycle = (detail: string) => new AppError('unprocessable', { code: 'category-cycle', detail });

  return {
    async create(input, actor) {
      const id = randomUUID();
      const insert = async () => {
        const now = new Date().toISOString();
        const category: Category = { id, ...input, ancestors: await ancestorsBelow(input.parentId), createdAt: now, updatedAt: now, version: 1 };
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
      if (query.tree === 'true') return tree(query);
      const page = pageRequestOf(query, 1);
      const filter: ListFilter = { after: page.after?.[0] as string | undefined, limit: page.limit + 1, withTotal: page.withTotal, depth: query.depth };
      if (query.parent === 'root') filter.parentId = null;
      else if (query.parent !== undefined) {
        // A parent that does not exist has no children: an empty page, as for an unknown id.
        filter.parentId = (await findByRef(query.parent))?.id ?? query.parent;
      }
      if (query.q) filter.text = query.q;
      const { items, total } = await repository.list(filter);
      return pageOf(items, page, (category) => [category.slug], total);
    },

    async update(ref, changes, actor, required) {
      const { id } = await existing(ref);
      if (changes.parentId === undefined) return write(id, ref, changes, actor, required);

      // A move changes the tree: checked and written under the tree claim, so two moves that are each valid alone
      // (A under B, B under A) are decided one after the other, and the second sees the first.
      return repository.structural({ op: 'move', id, parentId: changes.parentId }, async () => {
        const before = await existing(id);
        // A stale request is told so before it is told anything about the tree it was computed against. The check that
        // counts is the one inside the write; this one only answers early.
        checkVersion(before, required);
        if (changes.parentId === before.parentId) return write(id, ref, changes, actor, required);
        if (changes.parentId === id) throw cycle('A category cannot be its own parent');
        const ancestors = await ancestorsBelow(changes.parentId ?? null);
        if (ancestors.includes(id)) throw cycle('A category cannot move below its own descendant');
        const moved = await write(id, ref, changes, actor, required, ancestors);
        await repository.rebaseDescendants(id);
        return moved;
      });
    },

    async remove(ref, actor, required) {
      const { id } = await existing(ref);
      await repository.structural({ op: 'delete', id }, async () => {
        checkVersion(await existing(id), required);
        const children = await repository.countChildren(id);
        if (children > 0) {
          throw new AppError('conflict', { code: 'category-has-children', detail: `The category has ${children} sub-categories; move or delete them first` });
        }
        // Asked last, under the claim: products are filed in products' own database, so this is a check at one moment
        // (a product filed under the category between this answer and the delete is not seen; see docs/catalog.md).
        const held = await products.count(id);
        if (held > 0) {
          throw new AppError('conflict', { code: 'category-has-products', detail: `The category holds ${held} products; move or delete them first` });
        }
        const outcome = await repository.delete(id, (category) =>
          events.describe({ type: categoryEvents.deleted, subject: id, data: category, actor }),
        required);
        if (outcome.ok) return;
        throw outcome.reason === 'stale-version' ? stale(required ?? 0, outcome) : notFound(ref);
      });
    },
  };
}

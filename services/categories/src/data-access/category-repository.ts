import {
  aggregateClaims,
  changedWithEvent,
  defaultRevisionOptions,
  deletedWithEvent,
  isDuplicateKey,
  live,
  outboxIndex,
  revised,
  withEvent,
  withoutOutbox,
  type CloudEvent,
  type EventPublisher,
  type IndexPlan,
  type OutboxFields,
  type RevisionOptions,
} from '@mercato/platform';
import type { Db, Filter } from 'mongodb';
import type { Category } from '../domain/category-schema';

/**
 * Each write carries its domain event in the same document write (the platform's outbox.ts) and goes through a revision
 * claim (revisions.ts): FerretDB's filtered updates are read-then-replace, so a plain update could undo another one.
 */
interface CategoryDocument extends OutboxFields {
  _id: string;
  name: string;
  slug: string;
  parentId: string | null;
  ancestors: string[];
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

const collectionName = 'categories';

/**
 * Every filter here is an equality match or a small regex over a bounded page: FerretDB pushes equality down to SQL,
 * and MongoDB serves all of them from these indexes.
 */
export const categoryIndexes: IndexPlan = {
  [collectionName]: [
    { key: { slug: 1 }, name: 'slug_unique', unique: true },
    { key: { parentId: 1, slug: 1 }, name: 'parent_slug' },
    { key: { ancestors: 1 }, name: 'ancestors' },
    outboxIndex,
  ],
};

export type WriteOutcome = { ok: true; category: Category } | { ok: false; reason: 'duplicate-slug' | 'not-found' };

export interface ListFilter {
  parentId?: string | null;
  text?: string;
  /** Keyset paging: only slugs after this one (the last slug of the previous page). */
  after?: string | undefined;
  limit: number;
  /** Also count every match (costs a second query). */
  withTotal?: boolean;
}

/** Writes take the event describing them; it is stored with the change and then delivered. */
export interface CategoryRepository {
  insert(category: Category, event: CloudEvent): Promise<WriteOutcome>;
  findById(id: string): Promise<Category | undefined>;
  findBySlug(slug: string): Promise<Category | undefined>;
  /** Sorted by slug. */
  list(filter: ListFilter): Promise<{ items: Category[]; total?: number }>;
  /**
   * Writes what `decide` computes from the current category as its next revision. `decide` runs again whenever another
   * write got there first, so it must compute from its argument alone.
   */
  update(id: string, decide: (current: Category) => CategoryDecision): Promise<WriteOutcome>;
  /** Rewrites the ancestors of everything below `id` to follow `id`'s current path; idempotent. */
  rebaseDescendants(id: string): Promise<number>;
  countChildren(id: string): Promise<number>;
  /** Marks the category deleted together with the event `describe` builds from its current state. */
  delete(id: string, describe: (current: Category) => CloudEvent): Promise<boolean>;
  /**
   * Runs a structural change (create under a parent, move, delete) after every earlier one completed and before any
   * later one starts, so what `change` checks still holds when it writes.
   */
  structural<R>(intent: TreeIntent, change: () => Promise<R>): Promise<R>;
}

export interface CategoryDecision {
  changes: Partial<Omit<Category, 'id' | 'createdAt'>>;
  event: CloudEvent;
}

/** Stored with the tree claim, so a change a crash interrupted can be finished from it. */
export interface TreeIntent {
  op: 'create' | 'move' | 'delete';
  id: string;
  parentId?: string | null;
  [key: string]: unknown;
}

/**
 * The ancestors of a node below `movedId` once `movedId` sits under `movedAncestors`: the path above the moved node is
 * replaced, the path from it down kept. Nodes not below `movedId` keep theirs. Idempotent, so a repair can re-run it.
 */
export function rebaseAncestors(movedId: string, movedAncestors: readonly string[], ancestors: readonly string[]): string[] {
  const at = ancestors.indexOf(movedId);
  if (at < 0) return [...ancestors];
  return [...movedAncestors, ...ancestors.slice(at)];
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item, i) => item === b[i]);

const toCategory = (doc: CategoryDocument): Category => ({
  id: doc._id,
  name: doc.name,
  slug: doc.slug,
  parentId: doc.parentId,
  ancestors: doc.ancestors,
  description: doc.description,
  createdAt: doc.createdAt.toISOString(),
  updatedAt: doc.updatedAt.toISOString(),
});

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createCategoryRepository(
  db: Db,
  events: EventPublisher,
  revisions: RevisionOptions = defaultRevisionOptions,
  shutdown?: AbortSignal,
): CategoryRepository {
  const store = revised<CategoryDocument>(db, collectionName, revisions);
  const categories = store.collection;
  events.watch(store);
  const options = { projection: withoutOutbox };

  async function rebaseDescendants(id: string): Promise<number> {
    const moved = await categories.findOne({ _id: id, ...live }, { projection: { ancestors: 1 } });
    if (!moved) return 0;
    const below = await categories.find({ ancestors: id, ...live }, { projection: { _id: 1 } }).toArray();
    let rewritten = 0;
    for (const { _id } of below) {
      // Through the rule, so a concurrent rename of a descendant is kept; computed from the descendant's current path.
      const result = await store.write(_id, (current) => {
        const ancestors = rebaseAncestors(id, moved.ancestors, current.ancestors);
        return sameList(ancestors, current.ancestors) ? undefined : { ...current, ancestors };
      });
      if (result.status === 'written') rewritten += 1;
    }
    return rewritten;
  }

  const tree = aggregateClaims<TreeIntent>(db, {
    ...revisions,
    collection: `${collectionName}_tree_revisions`,
    name: 'tree',
    repair: async (intent) => {
      await rebaseDescendants(intent.id);
    },
  });
  // A move a crash interrupted is finished at start-up too, not only by the next structural change.
  void tree.recover(shutdown);

  return {
    async insert(category, event) {
      const { id, createdAt, updatedAt, ...rest } = category;
      try {
        await store.insert({
          _id: id,
          ...rest,
          createdAt: new Date(createdAt),
          updatedAt: new Date(updatedAt),
          ...withEvent(event),
        });
        await events.deliver(store, id);
        return { ok: true, category };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-slug' };
        throw error;
      }
    },

    async findById(id) {
      const doc = await categories.findOne({ _id: id, ...live }, options);
      return doc ? toCategory(doc) : undefined;
    },

    async findBySlug(slug) {
      const doc = await categories.findOne({ slug, ...live }, options);
      return doc ? toCategory(doc) : undefined;
    },

    async list({ parentId, text, after, limit, withTotal }) {
      const filter: Filter<CategoryDocument> = { ...live };
      if (parentId !== undefined) filter.parentId = parentId;
      if (text) {
        const pattern = { $regex: escapeRegex(text), $options: 'i' };
        filter.$or = [{ name: pattern }, { slug: pattern }];
      }
      // The count ignores the cursor: it is the size of the whole list, not of what is left.
      const total = withTotal ? categories.countDocuments(filter) : undefined;
      const page = categories
        .find(after === undefined ? filter : { ...filter, slug: { $gt: after } }, options)
        .sort({ slug: 1 })
        .limit(limit)
        .toArray();
      const [docs, count] = await Promise.all([page, total]);
      return count === undefined ? { items: docs.map(toCategory) } : { items: docs.map(toCategory), total: count };
    },

    async update(id, decide) {
      try {
        const result = await store.write(id, (current) => {
          if (current._deleted) return undefined;
          const { changes, event } = decide(toCategory(current));
          const { updatedAt, ...rest } = changes;
          const set: Partial<CategoryDocument> = { ...rest };
          if (updatedAt) set.updatedAt = new Date(updatedAt);
          return changedWithEvent(current, set, event);
        });
        if (result.status !== 'written') return { ok: false, reason: 'not-found' };
        await events.deliver(store, id);
        return { ok: true, category: toCategory(result.doc) };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-slug' };
        throw error;
      }
    },

    rebaseDescendants,

    countChildren: (id) => categories.countDocuments({ parentId: id, ...live }),

    async delete(id, describe) {
      // Marked deleted with its event in one write; the publisher removes it once the event is out.
      const result = await store.write(id, (current) =>
        current._deleted ? undefined : deletedWithEvent(current, describe(toCategory(current))),
      );
      if (result.status !== 'written') return false;
      await events.deliver(store, id);
      return true;
    },

    structural: (intent, change) => tree.run(intent, change),
  };
}

import {
  aggregateClaims,
  changedWithEvent,
  defaultRevisionOptions,
  deletedWithEvent,
  escapeRegex,
  findLiveById,
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
import type { CategoryTreeCache } from './category-tree-cache';

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
  /**
   * The public version (the ETag): bumped by business writes only. `_rev` counts the outbox clean-up too, which runs
   * right after each write, so an ETag built on it would be stale by the time the client sends it back. Absent on
   * documents stored before versions existed, which count as version 1.
   */
  version?: number;
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

/** A write whose required version is no longer current, with the version it found. */
export interface StaleOutcome {
  ok: false;
  reason: 'stale-version';
  current: number;
}

export type WriteOutcome = { ok: true; category: Category } | { ok: false; reason: 'duplicate-slug' | 'not-found' } | StaleOutcome;
export type DeleteOutcome = { ok: true } | { ok: false; reason: 'not-found' } | StaleOutcome;

export interface ListFilter {
  parentId?: string | null;
  text?: string;
  /** Keyset paging: only slugs after this one (the last slug of the previous page). */
  after?: string | undefined;
  limit: number;
  /** Also count every match (costs a second query). */
  withTotal?: boolean;
  /** Only categories this many levels below a root (0: the roots). */
  depth?: number | undefined;
}

/** Writes take the event describing them; it is stored with the change and then delivered. */
export interface CategoryRepository {
  insert(category: Category, event: CloudEvent): Promise<WriteOutcome>;
  findById(id: string): Promise<Category | undefined>;
  findBySlug(slug: string): Promise<Category | undefined>;
  /** Sorted by slug. */
  list(filter: ListFilter): Promise<{ items: Category[]; total?: number }>;
  /** Every category, or every one below `ancestorId`; unsorted, for building the nested tree (cached, when a cache is given). */
  listSubtree(ancestorId?: string): Promise<Category[]>;
  /**
   * Writes what `decide` computes from the current category as its next version. `decide` runs again whenever another
   * write got there first, so it must compute from its argument alone. With `requiredVersion` the write happens only
   * while the category is still at that version, checked inside the claimed write so two writers holding the same
   * version cannot both pass.
   */
  update(id: string, decide: (current: Category) => CategoryDecision, requiredVersion?: number): Promise<WriteOutcome>;
  /** Rewrites the ancestors of everything below `id` to follow `id`'s current path; idempotent. */
  rebaseDescendants(id: string): Promise<number>;
  countChildren(id: string): Promise<number>;
  /**
   * Marks the category deleted together with the event `describe` builds from its current state; with
   * `requiredVersion`, only while it is still at that version (checked inside the claimed write, as for `update`).
   */
  delete(id: string, describe: (current: Category) => CloudEvent, requiredVersion?: number): Promise<DeleteOutcome>;
  /**
   * Runs a structural change (create under a parent, move, delete) after every earlier one completed and before any
   * later one starts, so what `change` checks still holds when it writes.
   */
  structural<R>(intent: TreeIntent, change: () => Promise<R>): Promise<R>;
}

export interface CategoryDecision {
  /** The version is the repository's to bump. */
  changes: Partial<Omit<Category, 'id' | 'createdAt' | 'version'>>;
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

const versionOf = (doc: CategoryDocument) => doc.version ?? 1;

/**
 * Runs a claimed write that must find the category at `required` (when given): the check sits inside the write's
 * decide function, which the revision rule re-runs on every retry, so a writer that lost the claim re-reads, finds the
 * winner's version and stops. Returns the version found when it was stale.
 */
function guardedBy(required: number | undefined) {
  let stale: number | undefined;
  return {
    /** True when the write may go ahead on `current`; false records the version it found. */
    admits(current: CategoryDocument): boolean {
      stale = required !== undefined && versionOf(current) !== required ? versionOf(current) : undefined;
      return stale === undefined;
    },
    outcome: (): StaleOutcome | undefined => (stale === undefined ? undefined : { ok: false, reason: 'stale-version', current: stale }),
  };
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
  version: versionOf(doc),
});

export function createCategoryRepository(
  db: Db,
  events: EventPublisher,
  revisions: RevisionOptions = defaultRevisionOptions,
  shutdown?: AbortSignal,
  treeCache?: CategoryTreeCache,
): CategoryRepository {
  const store = revised<CategoryDocument>(db, collectionName, revisions);
  const categories = store.collection;
  events.watch(store);
  const options = { projection: withoutOutbox };
  /** Every committed write tells the tree cache before it answers, so no replica serves the tree from before it. */
  const treeChanged = async () => treeCache?.changed();
  const loadAll = async () => (await categories.find({ ...live }, options).toArray()).map(toCategory);

  async function rebaseDescendants(id: string): Promise<number> {
    const moved = await findLiveById(categories, id);
    if (!moved) return 0;
    const below = await categories.find({ ancestors: id, ...live }, { projection: { _id: 1 } }).toArray();
    let rewritten = 0;
    for (const { _id } of below) {
      // Through the rule, so a concurrent rename of a descendant is kept; computed from the descendant's current path.
      const result = await store.write(_id, (current) => {
        const ancestors = rebaseAncestors(id, moved.ancestors, current.ancestors);
        // A new path is a new representation of the descendant, so its version moves too.
        return sameList(ancestors, current.ancestors) ? undefined : { ...current, ancestors, version: versionOf(current) + 1 };
      });
      if (result.status === 'written') rewritten += 1;
    }
    if (rewritten > 0) await treeChanged();
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
      const { id, createdAt, updatedAt, version: _version, ...rest } = category;
      try {
        const stored = await store.insert({
          _id: id,
          ...rest,
          createdAt: new Date(createdAt),
          updatedAt: new Date(updatedAt),
          version: 1,
          ...withEvent(event),
        });
        await treeChanged();
        await events.deliver(store, id, stored);
        return { ok: true, category };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-slug' };
        throw error;
      }
    },

    async findById(id) {
      const doc = await findLiveById(categories, id);
      return doc ? toCategory(doc) : undefined;
    },

    async findBySlug(slug) {
      const doc = await categories.findOne({ slug, ...live }, options);
      return doc ? toCategory(doc) : undefined;
    },

    async list({ parentId, text, after, limit, withTotal, depth }) {
      const filter: Filter<CategoryDocument> = { ...live };
      if (parentId !== undefined) filter.parentId = parentId;
      if (depth !== undefined) filter.ancestors = { $size: depth };
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

    async listSubtree(ancestorId) {
      // One cached entry for the whole tree, cut here: a subtree is a small filter in memory, not a key of its own.
      if (treeCache) {
        const all = await treeCache.all(loadAll);
        return ancestorId === undefined ? all : all.filter((category) => category.ancestors.includes(ancestorId));
      }
      if (ancestorId === undefined) return loadAll();
      return (await categories.find({ ancestors: ancestorId, ...live }, options).toArray()).map(toCategory);
    },

    async update(id, decide, requiredVersion) {
      const guard = guardedBy(requiredVersion);
      try {
        const result = await store.write(id, (current) => {
          if (current._deleted || !guard.admits(current)) return undefined;
          const { changes, event } = decide(toCategory(current));
          const { updatedAt, ...rest } = changes;
          const set: Partial<CategoryDocument> = { ...rest, version: versionOf(current) + 1 };
          if (updatedAt) set.updatedAt = new Date(updatedAt);
          return changedWithEvent(current, set, event);
        });
        if (result.status !== 'written') return guard.outcome() ?? { ok: false, reason: 'not-found' };
        await treeChanged();
        await events.deliver(store, id, result.doc);
        return { ok: true, category: toCategory(result.doc) };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-slug' };
        throw error;
      }
    },

    rebaseDescendants,

    countChildren: (id) => categories.countDocuments({ parentId: id, ...live }),

    async delete(id, describe, requiredVersion) {
      const guard = guardedBy(requiredVersion);
      // Marked deleted with its event in one write; the publisher removes it once the event is out.
      const result = await store.write(id, (current) =>
        current._deleted || !guard.admits(current) ? undefined : deletedWithEvent(current, describe(toCategory(current))),
      );
      if (result.status !== 'written') return guard.outcome() ?? { ok: false, reason: 'not-found' };
      await treeChanged();
      await events.deliver(store, id, result.doc);
      return { ok: true };
    },

    structural: (intent, change) => tree.run(intent, change),
  };
}

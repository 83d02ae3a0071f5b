import {
  deleteWithEvent,
  isDuplicateKey,
  live,
  outboxIndex,
  setWithEvent,
  withEvent,
  withoutOutbox,
  type CloudEvent,
  type EventPublisher,
  type IndexPlan,
  type OutboxFields,
} from '@mercato/platform';
import type { Db, Filter } from 'mongodb';
import type { Category } from '../domain/category-schema';

/** Each write carries its domain event in the same document update (see the platform's outbox.ts). */
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
  update(id: string, changes: Partial<Omit<Category, 'id' | 'createdAt'>>, event: CloudEvent): Promise<WriteOutcome>;
  /** After `id` moved under new ancestors, rewrites the ancestors of everything below it to match. */
  moveDescendants(id: string, newAncestorsOfMoved: string[]): Promise<number>;
  countChildren(id: string): Promise<number>;
  delete(id: string, event: CloudEvent): Promise<boolean>;
}

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

export function createCategoryRepository(db: Db, events: EventPublisher): CategoryRepository {
  const categories = db.collection<CategoryDocument>(collectionName);
  events.watch(categories);
  const options = { projection: withoutOutbox };

  return {
    async insert(category, event) {
      const { id, createdAt, updatedAt, ...rest } = category;
      try {
        await categories.insertOne({
          _id: id,
          ...rest,
          createdAt: new Date(createdAt),
          updatedAt: new Date(updatedAt),
          ...withEvent(event),
        });
        await events.deliver(categories, id);
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

    async update(id, changes, event) {
      const { updatedAt, ...rest } = changes;
      const set: Partial<CategoryDocument> = { ...rest };
      if (updatedAt) set.updatedAt = new Date(updatedAt);
      try {
        // No projection here: FerretDB's findAndModify does not implement one. toCategory copies known fields only.
        const doc = await categories.findOneAndUpdate({ _id: id, ...live }, setWithEvent(set, event), { returnDocument: 'after' });
        if (!doc) return { ok: false, reason: 'not-found' };
        await events.deliver(categories, id);
        return { ok: true, category: toCategory(doc) };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-slug' };
        throw error;
      }
    },

    async moveDescendants(id, newAncestorsOfMoved) {
      const descendants = await categories.find({ ancestors: id, ...live }, { projection: { ancestors: 1 } }).toArray();
      for (const doc of descendants) {
        // Keep the path from the moved category down (it starts with `id`); replace what was above it.
        const fromMoved = doc.ancestors.slice(doc.ancestors.indexOf(id));
        await categories.updateOne({ _id: doc._id }, { $set: { ancestors: [...newAncestorsOfMoved, ...fromMoved] } });
      }
      return descendants.length;
    },

    countChildren: (id) => categories.countDocuments({ parentId: id, ...live }),

    async delete(id, event) {
      // Marked deleted with its event in one write; the publisher removes it once the event is out.
      const result = await categories.updateOne({ _id: id, ...live }, deleteWithEvent(event));
      if (result.matchedCount !== 1) return false;
      await events.deliver(categories, id);
      return true;
    },
  };
}

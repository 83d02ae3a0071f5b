import { isDuplicateKey, type IndexPlan } from '@mercato/platform';
import type { Db, Filter } from 'mongodb';
import type { Category } from '../domain/category-schema';

interface CategoryDocument {
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
  ],
};

export type WriteOutcome = { ok: true; category: Category } | { ok: false; reason: 'duplicate-slug' | 'not-found' };

export interface ListFilter {
  parentId?: string | null;
  text?: string;
  limit: number;
  offset: number;
}

export interface CategoryRepository {
  insert(category: Category): Promise<WriteOutcome>;
  findById(id: string): Promise<Category | undefined>;
  findBySlug(slug: string): Promise<Category | undefined>;
  list(filter: ListFilter): Promise<{ items: Category[]; total: number }>;
  update(id: string, changes: Partial<Omit<Category, 'id' | 'createdAt'>>): Promise<WriteOutcome>;
  /** After `id` moved under new ancestors, rewrites the ancestors of everything below it to match. */
  moveDescendants(id: string, newAncestorsOfMoved: string[]): Promise<number>;
  countChildren(id: string): Promise<number>;
  delete(id: string): Promise<boolean>;
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

export function createCategoryRepository(db: Db): CategoryRepository {
  const categories = db.collection<CategoryDocument>(collectionName);

  return {
    async insert(category) {
      const { id, createdAt, updatedAt, ...rest } = category;
      try {
        await categories.insertOne({ _id: id, ...rest, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) });
        return { ok: true, category };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-slug' };
        throw error;
      }
    },

    async findById(id) {
      const doc = await categories.findOne({ _id: id });
      return doc ? toCategory(doc) : undefined;
    },

    async findBySlug(slug) {
      const doc = await categories.findOne({ slug });
      return doc ? toCategory(doc) : undefined;
    },

    async list({ parentId, text, limit, offset }) {
      const filter: Filter<CategoryDocument> = {};
      if (parentId !== undefined) filter.parentId = parentId;
      if (text) {
        const pattern = { $regex: escapeRegex(text), $options: 'i' };
        filter.$or = [{ name: pattern }, { slug: pattern }];
      }
      const [docs, total] = await Promise.all([
        categories.find(filter).sort({ slug: 1 }).skip(offset).limit(limit).toArray(),
        categories.countDocuments(filter),
      ]);
      return { items: docs.map(toCategory), total };
    },

    async update(id, changes) {
      const { updatedAt, ...rest } = changes;
      const set: Partial<CategoryDocument> = { ...rest };
      if (updatedAt) set.updatedAt = new Date(updatedAt);
      try {
        const doc = await categories.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' });
        return doc ? { ok: true, category: toCategory(doc) } : { ok: false, reason: 'not-found' };
      } catch (error) {
        if (isDuplicateKey(error)) return { ok: false, reason: 'duplicate-slug' };
        throw error;
      }
    },

    async moveDescendants(id, newAncestorsOfMoved) {
      const descendants = await categories.find({ ancestors: id }, { projection: { ancestors: 1 } }).toArray();
      for (const doc of descendants) {
        // Keep the path from the moved category down (it starts with `id`); replace what was above it.
        const fromMoved = doc.ancestors.slice(doc.ancestors.indexOf(id));
        await categories.updateOne({ _id: doc._id }, { $set: { ancestors: [...newAncestorsOfMoved, ...fromMoved] } });
      }
      return descendants.length;
    },

    countChildren: (id) => categories.countDocuments({ parentId: id }),

    async delete(id) {
      const result = await categories.deleteOne({ _id: id });
      return result.deletedCount === 1;
    },
  };
}

import { randomUUID } from 'node:crypto';
import { forEachInBatches, insertSkippingDuplicates, type IndexPlan } from '@mercato/platform';
import type { Db } from 'mongodb';
import type { Meme } from '../domain/meme-schema';

/**
 * Memes in MongoDB, the system of record; search is answered from each replica's in-memory index. Memes are only ever
 * inserted (a meme is never edited), so there is no concurrent update to order: an import inserts with `_id` = the
 * corpus id and skips what exists, so running it again changes nothing.
 */
interface MemeDocument extends Omit<Meme, 'id' | 'createdAt'> {
  _id: string;
  createdAt: Date;
  /** When this database took it in (an imported meme keeps its corpus time as `createdAt`): what replicas poll by. */
  storedAt: Date;
}

const collectionName = 'memes';
/**
 * One document whose token every insert replaces after its memes landed: replicas read it by `_id` (a key lookup) and
 * query `storedAt` only when it changed. On FerretDB that query reads the whole collection, ≈ 1 s per poll at 5k memes.
 * Two inserts replacing it at once still leave a token no replica has seen, so no change goes unnoticed.
 */
const storedMarkCollection = 'memes_stored_mark';
const storedMarkId = 'stored';

/** `storedAt` for the refresh of memes other replicas stored (MongoDB; FerretDB reads the collection, 5k memes). */
export const memeIndexes: IndexPlan = { [collectionName]: [{ key: { storedAt: 1 }, name: 'stored_at' }] };

export interface MemeRepository {
  /** Inserts the memes not stored yet; returns how many were new. */
  insertNew(memes: Meme[]): Promise<number>;
  findById(id: string): Promise<Meme | undefined>;
  /** Every meme, in batches, for loading the index. */
  forEachBatch(handle: (batch: Meme[]) => void, batchSize?: number): Promise<number>;
  /** Memes stored (created or imported) at or after `since`. */
  storedSince(since: Date): Promise<Meme[]>;
  /** Changes whenever memes were inserted; undefined before the first insert. */
  storedMark(): Promise<string | undefined>;
}

const toMeme = (doc: MemeDocument): Meme => {
  const { _id, createdAt, storedAt: _storedAt, ...rest } = doc;
  return { id: _id, ...rest, createdAt: createdAt.toISOString() };
};

export function createMemeRepository(db: Db): MemeRepository {
  const memes = db.collection<MemeDocument>(collectionName);
  const marks = db.collection<{ _id: string; token: string }>(storedMarkCollection);
  return {
    async insertNew(batch) {
      if (batch.length === 0) return 0;
      const storedAt = new Date();
      const docs = batch.map(({ id, createdAt, ...rest }) => ({ _id: id, ...rest, createdAt: new Date(createdAt), storedAt }));
      const inserted = docs.length - (await insertSkippingDuplicates(memes, docs)).size;
      if (inserted > 0) await marks.replaceOne({ _id: storedMarkId }, { token: randomUUID() }, { upsert: true });
      return inserted;
    },
    async findById(id) {
      const doc = await memes.findOne({ _id: id });
      return doc ? toMeme(doc) : undefined;
    },
    forEachBatch: (handle, batchSize = 1000) => forEachInBatches(memes.find({}).batchSize(batchSize).map(toMeme), batchSize, handle),
    storedSince: async (since) => (await memes.find({ storedAt: { $gte: since } }).toArray()).map(toMeme),
    storedMark: async () => (await marks.findOne({ _id: storedMarkId }))?.token,
  };
}

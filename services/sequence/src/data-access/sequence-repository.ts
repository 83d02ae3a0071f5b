import { isDuplicateKey, revised, type IndexPlan, type RevisionOptions, type Revised } from '@mercato/platform';
import type { Db } from 'mongodb';
import type { SequenceMode } from '../domain/sequence-schema';

/** A sequence as stored. `mark` is the durable high-water mark: every value ever reserved lies below it. */
export interface SequenceDocument extends Revised {
  _id: string;
  mode: SequenceMode;
  blockSize: number;
  mark: number;
  createdAt: Date;
  updatedAt: Date;
}

const collection = 'sequences';

/** `_id` (the name) is unique by itself, and so is each claim's `_id` in `sequences_revisions`: nothing to add. */
export const sequenceIndexes: IndexPlan = {};

/** A reservation that went through: the values [start, end) belong to the caller alone. */
export interface Reservation {
  start: number;
  end: number;
  sequence: SequenceDocument;
}

export type ReserveOutcome = Reservation | 'missing' | 'exhausted';

export interface SequenceRepository {
  find(name: string): Promise<SequenceDocument | null>;
  /** Inserts a new sequence; false when one of that name exists already. */
  create(doc: Omit<SequenceDocument, '_rev'>): Promise<boolean>;
  /** Applies `change` through a revision claim; undefined from `change` writes nothing. */
  update(name: string, change: (current: SequenceDocument) => SequenceDocument | undefined): Promise<SequenceDocument | null>;
  /**
   * Moves the mark from h to h + size through a revision claim (docs/runtime.md, "Concurrency rule"). Only one writer
   * can win the claim on a revision, so [h, h + size) is reserved for exactly the caller whose write returned
   * `written`, on FerretDB and MongoDB alike.
   */
  reserve(name: string, size: number): Promise<ReserveOutcome>;
}

export function createSequenceRepository(db: Db, revisions: RevisionOptions): SequenceRepository {
  const sequences = revised<SequenceDocument>(db, collection, revisions);
  return {
    find: (name) => sequences.collection.findOne({ _id: name }),
    async create(doc) {
      try {
        await sequences.insert(doc);
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async update(name, change) {
      const result = await sequences.write(name, change);
      return result.status === 'missing' ? null : result.doc;
    },
    async reserve(name, size) {
      let exhausted = false;
      const result = await sequences.write(name, (current) => {
        exhausted = current.mark + size > Number.MAX_SAFE_INTEGER;
        return exhausted ? undefined : { ...current, mark: current.mark + size, updatedAt: new Date() };
      });
      if (result.status === 'missing') return 'missing';
      if (result.status === 'unchanged') return exhausted ? 'exhausted' : 'missing';
      return { start: result.doc.mark - size, end: result.doc.mark, sequence: result.doc };
    },
  };
}

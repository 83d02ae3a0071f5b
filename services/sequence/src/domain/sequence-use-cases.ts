import { AppError, isConcurrentUpdate, type Logger } from '@mercato/platform';
import type { SequenceLock } from '../data-access/dapr-lock';
import type { Reservation, SequenceDocument, SequenceRepository } from '../data-access/sequence-repository';
import { BlockAllocator, type BlockPolicy } from './block-allocator';
import type { Sequence, SequenceSettings } from './sequence-schema';

export interface SequenceOptions {
  defaultBlockSize: number;
  maxBlockSize: number;
  /** An adaptive block grows to at most this many times the configured size (and never past maxBlockSize). */
  blockGrowth: number;
  blockTargetMs: number;
  prefetchAt: number;
  settingsTtlMs: number;
  logger: Logger;
  now?: () => number;
}

export interface SequenceUseCases {
  /** Creates the sequence, or changes its settings; the mark only ever moves forward. */
  configure(name: string, settings: SequenceSettings): Promise<{ sequence: Sequence; created: boolean }>;
  get(name: string): Promise<Sequence>;
  /** `count` values no one else ever got (ascending within the answer). */
  next(name: string, count: number): Promise<number[]>;
}

const notFound = (name: string) =>
  new AppError('not-found', { code: 'sequence-not-found', detail: `There is no sequence named "${name}"; create it with PUT first` });

const markBackwards = (name: string, mark: number, start: number) =>
  new AppError('conflict', {
    code: 'mark-backwards',
    detail: `Values of "${name}" up to ${mark - 1} may have been handed out already, so start ${start} would hand them out again; start must be at least ${mark}`,
  });

const exhausted = (name: string) =>
  new AppError('conflict', { code: 'sequence-exhausted', detail: `"${name}" has no exact JSON numbers left to hand out` });

const busy = (cause: unknown) =>
  new AppError('dependency-unavailable', {
    code: 'sequence-busy',
    detail: 'Other replicas are changing this sequence right now; nothing was handed out, try again',
    retryAfterSeconds: 1,
    cause,
  });

const view = (doc: SequenceDocument): Sequence => ({
  name: doc._id,
  mode: doc.mode,
  blockSize: doc.blockSize,
  highWaterMark: doc.mark,
  createdAt: new Date(doc.createdAt).toISOString(),
  updatedAt: new Date(doc.updatedAt).toISOString(),
});

/** What one replica knows of one sequence: its settings (re-read every settingsTtlMs) and its blocks. */
interface SequenceState {
  doc: SequenceDocument;
  readAt: number;
  refreshing: boolean;
  blocks: BlockAllocator;
  /** Strict calls waiting for the next reservation of this replica (group commit: one write serves them all). */
  strictQueue: StrictCall[];
  strictRunning: boolean;
}

interface StrictCall {
  count: number;
  resolve(values: number[]): void;
  reject(error: unknown): void;
}

export function createSequenceUseCases(repository: SequenceRepository, lock: SequenceLock, options: SequenceOptions): SequenceUseCases {
  const now = options.now ?? Date.now;
  const { logger } = options;
  const states = new Map<string, SequenceState>();
  const loading = new Map<string, Promise<SequenceState>>();

  const policyOf = (doc: SequenceDocument): BlockPolicy => ({
    blockSize: doc.blockSize,
    maxBlockSize: Math.min(options.maxBlockSize, doc.blockSize * options.blockGrowth),
    targetMs: options.blockTargetMs,
    prefetchAt: options.prefetchAt,
  });

  /** The reservation itself: the lock keeps replicas apart, the revision claim makes the range this replica's alone. */
  async function reserve(name: string, size: number): Promise<Reservation> {
    try {
      const outcome = await lock.withLock(`sequence:${name}`, () => repository.reserve(name, size));
      if (outcome === 'missing') throw notFound(name);
      if (outcome === 'exhausted') throw exhausted(name);
      const state = states.get(name);
      if (state) adopt(state, outcome.sequence);
      return outcome;
    } catch (error) {
      throw isConcurrentUpdate(error) ? busy(error) : error;
    }
  }

  function adopt(state: SequenceState, doc: SequenceDocument): void {
    if (doc.mode === 'strict' && state.doc.mode === 'block') state.blocks.drop();
    state.doc = doc;
    state.readAt = now();
    state.blocks.setPolicy(policyOf(doc));
  }

  function track(doc: SequenceDocument): SequenceState {
    const existing = states.get(doc._id);
    if (existing) {
      adopt(existing, doc);
      return existing;
    }
    const name = doc._id;
    const state: SequenceState = {
      doc,
      readAt: now(),
      refreshing: false,
      blocks: new BlockAllocator(
        (size) => reserve(name, size),
        policyOf(doc),
        (error) => logger.warn('could not reserve the next block in the background', { sequence: name, error: String(error) }),
        now,
      ),
      strictQueue: [],
      strictRunning: false,
    };
    states.set(name, state);
    return state;
  }

  /** Settings older than the TTL are re-read in the background; the call at hand goes on with what it has. */
  function refreshIfStale(state: SequenceState): void {
    if (state.refreshing || now() - state.readAt < options.settingsTtlMs) return;
    state.refreshing = true;
    repository
      .find(state.doc._id)
      .then((doc) => {
        if (doc) adopt(state, doc);
        else states.delete(state.doc._id);
      })
      .catch((error: unknown) => logger.debug('could not re-read sequence settings', { sequence: state.doc._id, error: String(error) }))
      .finally(() => {
        state.refreshing = false;
      });
  }

  async function stateOf(name: string): Promise<SequenceState> {
    const known = states.get(name);
    if (known) {
      refreshIfStale(known);
      return known;
    }
    let pending = loading.get(name);
    if (!pending) {
      pending = repository.find(name).then((doc) => {
        if (!doc) throw notFound(name);
        return track(doc);
      });
      loading.set(name, pending);
      pending.finally(() => loading.delete(name)).catch(() => undefined);
    }
    return pending;
  }

  /**
   * Strict mode with group commit: calls that arrive while this replica's reservation is being written wait together,
   * and the next reservation is exactly their total, handed out in arrival order. Every reserved value is answered, so
   * there are no gaps, and a call that starts after another ended (on any replica) gets higher values.
   */
  function strictNext(state: SequenceState, count: number): Promise<number[]> {
    return new Promise<number[]>((resolve, reject) => {
      state.strictQueue.push({ count, resolve, reject });
      if (!state.strictRunning) void drainStrict(state);
    });
  }

  async function drainStrict(state: SequenceState): Promise<void> {
    state.strictRunning = true;
    try {
      while (state.strictQueue.length > 0) {
        const batch = state.strictQueue.splice(0, state.strictQueue.length);
        const total = batch.reduce((sum, call) => sum + call.count, 0);
        try {
          let { start } = await reserve(state.doc._id, total);
          for (const call of batch) {
            call.resolve(Array.from({ length: call.count }, (_, i) => start + i));
            start += call.count;
          }
        } catch (error) {
          for (const call of batch) call.reject(error);
        }
      }
    } finally {
      state.strictRunning = false;
    }
  }

  return {
    async configure(name, settings) {
      const at = new Date(now());
      const existing = await repository.find(name);
      if (!existing) {
        const doc: SequenceDocument = {
          _id: name,
          mode: settings.mode ?? 'block',
          blockSize: settings.blockSize ?? Math.min(options.defaultBlockSize, options.maxBlockSize),
          mark: settings.start ?? 1,
          createdAt: at,
          updatedAt: at,
        };
        if (await repository.create(doc)) {
          track({ ...doc, _rev: 1 });
          return { sequence: view(doc), created: true };
        }
      }
      const updated = await repository.update(name, (current) => {
        if (settings.start !== undefined && settings.start < current.mark) throw markBackwards(name, current.mark, settings.start);
        const next: SequenceDocument = {
          ...current,
          mark: settings.start ?? current.mark,
          blockSize: settings.blockSize ?? current.blockSize,
          mode: settings.mode ?? current.mode,
        };
        const changed = next.mark !== current.mark || next.blockSize !== current.blockSize || next.mode !== current.mode;
        return changed ? { ...next, updatedAt: at } : undefined;
      });
      if (!updated) throw notFound(name);
      track(updated);
      return { sequence: view(updated), created: false };
    },

    async get(name) {
      const doc = await repository.find(name);
      if (!doc) throw notFound(name);
      return view(doc);
    },

    async next(name, count) {
      const state = await stateOf(name);
      if (state.doc.mode === 'strict') return strictNext(state, count);
      return state.blocks.take(count);
    },
  };
}

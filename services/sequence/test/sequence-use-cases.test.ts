import { AppError, createLogger } from '@mercato/platform';
import type { SequenceLock } from '../src/data-access/dapr-lock';
import type { SequenceDocument, SequenceRepository } from '../src/data-access/sequence-repository';
import { createSequenceUseCases } from '../src/domain/sequence-use-cases';

/** The repository's contract in memory: one document per name, reservations move the mark. */
function memoryRepository() {
  const docs = new Map<string, SequenceDocument>();
  let reservations = 0;
  const repository: SequenceRepository = {
    find: async (name) => (docs.has(name) ? { ...docs.get(name)! } : null),
    create: async (doc) => {
      if (docs.has(doc._id)) return false;
      docs.set(doc._id, { ...doc, _rev: 1 });
      return true;
    },
    update: async (name, change) => {
      const current = docs.get(name);
      if (!current) return null;
      const next = change({ ...current });
      if (next) docs.set(name, { ...next, _rev: (current._rev ?? 0) + 1 });
      return { ...docs.get(name)! };
    },
    reserve: async (name, size) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const current = docs.get(name);
      if (!current) return 'missing';
      reservations += 1;
      const sequence = { ...current, mark: current.mark + size };
      docs.set(name, sequence);
      return { start: current.mark, end: sequence.mark, sequence };
    },
  };
  return { repository, reservations: () => reservations };
}

const passThrough: SequenceLock = { withLock: (_resource, work) => work() };
const options = {
  defaultBlockSize: 100, maxBlockSize: 1000, blockGrowth: 4, blockTargetMs: 1000, prefetchAt: 0.15, settingsTtlMs: 1000,
  logger: createLogger('test', 'error'),
};

describe('the sequence use cases', () => {
  it('when strict calls arrive together, then they share reservations and their values are gap-free in arrival order', async () => {
    const memory = memoryRepository();
    const useCases = createSequenceUseCases(memory.repository, passThrough, options);
    await useCases.configure('strict', { mode: 'strict', start: 1 });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => useCases.next('strict', 1 + (i % 3))));
    expect(answers.flat()).toEqual(Array.from({ length: answers.flat().length }, (_, i) => i + 1));
    expect(memory.reservations()).toBeLessThan(30);
    expect((await useCases.get('strict')).highWaterMark).toBe(answers.flat().length + 1);
  });

  it('when start would move the mark backwards, then it is a 409 and nothing changes', async () => {
    const memory = memoryRepository();
    const useCases = createSequenceUseCases(memory.repository, passThrough, options);
    await useCases.configure('orders', { start: 10 });
    await useCases.next('orders', 1);
    const before = await useCases.get('orders');
    await expect(useCases.configure('orders', { start: 10, mode: 'strict' })).rejects.toMatchObject({ status: 409, code: 'mark-backwards' });
    expect(await useCases.get('orders')).toEqual(before);
  });

  it('when a sequence does not exist, then next and get are 404', async () => {
    const useCases = createSequenceUseCases(memoryRepository().repository, passThrough, options);
    await expect(useCases.next('nope', 1)).rejects.toBeInstanceOf(AppError);
    await expect(useCases.get('nope')).rejects.toMatchObject({ status: 404, code: 'sequence-not-found' });
  });

  it('when the lock store is down, then block mode serves what it holds and then fails with the lock error', async () => {
    const memory = memoryRepository();
    let down = false;
    const lock: SequenceLock = {
      withLock: (_resource, work) => (down ? Promise.reject(new AppError('dependency-unavailable', { code: 'lock-unavailable' })) : work()),
    };
    const useCases = createSequenceUseCases(memory.repository, lock, { ...options, blockGrowth: 1 });
    await useCases.configure('blocks', { blockSize: 10 });
    // Two of ten used: past 15%, so the next block is reserved in the background before the lock store goes.
    await useCases.next('blocks', 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    down = true;
    const served = await useCases.next('blocks', 18);
    expect(served).toEqual(Array.from({ length: 18 }, (_, i) => i + 3));
    await expect(useCases.next('blocks', 1)).rejects.toMatchObject({ code: 'lock-unavailable' });
  });
});

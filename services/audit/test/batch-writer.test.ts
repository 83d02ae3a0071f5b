import { createBatchWriter } from '../src/domain/batch-writer';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the batch writer', () => {
  it('when events arrive together, then they are written in batches of at most maxBatch and each caller settles once durable', async () => {
    const written: number[][] = [];
    const writer = createBatchWriter<number>({ write: async (events) => void written.push(events), maxBatch: 3, maxAgeMs: 5, capacity: 100 });
    await Promise.all([writer.submit([1, 2]), writer.submit([3, 4]), writer.submit([5])]);
    expect(written.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(Math.max(...written.map((batch) => batch.length))).toBeLessThanOrEqual(3);
    expect(writer.held()).toBe(0);
  });

  it('when a batch is not full, then it is written once it is maxAgeMs old', async () => {
    const written: number[][] = [];
    const writer = createBatchWriter<number>({ write: async (events) => void written.push(events), maxBatch: 100, maxAgeMs: 20, capacity: 100 });
    const done = writer.submit([1]);
    await tick();
    expect(written).toEqual([]);
    await done;
    expect(written).toEqual([[1]]);
  });

  it('when taking events would go over capacity, then the caller is refused at once with buffer-full and nothing of it is held', async () => {
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const writer = createBatchWriter<number>({
      write: () => stalled,
      maxBatch: 2, maxAgeMs: 1, capacity: 3,
    });
    const first = writer.submit([1, 2]);
    await expect(writer.submit([3, 4])).rejects.toMatchObject({ code: 'buffer-full', status: 503, retryAfterSeconds: 1 });
    expect(writer.held()).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    await first;
    await expect(writer.submit([3, 4])).resolves.toBeUndefined();
  });

  it('when a write fails, then every caller in that batch is rejected and later batches are still written', async () => {
    let calls = 0;
    const writer = createBatchWriter<number>({
      write: async () => {
        calls += 1;
        if (calls === 1) throw new Error('database down');
      },
      maxBatch: 2, maxAgeMs: 1, capacity: 10,
    });
    await expect(writer.submit([1, 2])).rejects.toThrow('database down');
    await expect(writer.submit([3])).resolves.toBeUndefined();
  });

  it('when a caller spans two batches and the second fails, then it is rejected, not resolved', async () => {
    let calls = 0;
    const writer = createBatchWriter<number>({
      write: async () => {
        calls += 1;
        if (calls === 2) throw new Error('lost');
      },
      maxBatch: 2, maxAgeMs: 1, capacity: 10,
    });
    await expect(writer.submit([1, 2, 3])).rejects.toThrow('lost');
  });

  it('when closed, then what is buffered is written and new events are refused', async () => {
    const written: number[] = [];
    const writer = createBatchWriter<number>({ write: async (events) => void written.push(...events), maxBatch: 100, maxAgeMs: 10_000, capacity: 100 });
    const pending = writer.submit([1, 2]);
    await writer.close();
    await pending;
    expect(written).toEqual([1, 2]);
    await expect(writer.submit([3])).rejects.toMatchObject({ code: 'shutting-down' });
  });
});

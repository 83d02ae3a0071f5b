import { BlockAllocator, type BlockPolicy, type ReservedRange } from '../src/domain/block-allocator';

const policy = (overrides: Partial<BlockPolicy> = {}): BlockPolicy => ({ blockSize: 10, maxBlockSize: 80, targetMs: 1000, prefetchAt: 0.15, ...overrides });

/** A durable mark in memory: each reservation moves it, as the repository's claimed write does. */
function store(start = 1) {
  let mark = start;
  const sizes: number[] = [];
  let fail: Error | undefined;
  return {
    sizes,
    failWith(error: Error | undefined) {
      fail = error;
    },
    reserve: async (size: number): Promise<ReservedRange> => {
      await Promise.resolve();
      if (fail) throw fail;
      sizes.push(size);
      const range = { start: mark, end: mark + size };
      mark += size;
      return range;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the block allocator', () => {
  it('when values are taken one by one across blocks, then each comes once, ascending, from reserved blocks only', async () => {
    const durable = store();
    let clock = 0;
    const allocator = new BlockAllocator(durable.reserve, policy({ targetMs: 0 }), () => undefined, () => (clock += 5000));
    const values: number[] = [];
    for (let i = 0; i < 50; i += 1) values.push(...(await allocator.take(1)));
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const reserved = durable.sizes.reduce((a, b) => a + b, 0);
    expect(reserved).toBeGreaterThanOrEqual(50);
  });

  it('when many callers take at once, then no value is handed out twice and one reservation runs at a time', async () => {
    const durable = store();
    let inFlight = 0;
    let most = 0;
    const allocator = new BlockAllocator(
      async (size) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          return await durable.reserve(size);
        } finally {
          inFlight -= 1;
        }
      },
      policy(),
      () => undefined,
    );
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => allocator.take(1 + (i % 7))));
    const values = answers.flat();
    expect(new Set(values).size).toBe(values.length);
    expect(most).toBe(1);
  });

  it('when 15% of the current block is used, then the next one is reserved in the background', async () => {
    const durable = store();
    const allocator = new BlockAllocator(durable.reserve, policy({ blockSize: 100, maxBlockSize: 100 }), () => undefined);
    await allocator.take(1);
    expect(durable.sizes).toEqual([100]);
    await allocator.take(14);
    await settle();
    expect(durable.sizes).toEqual([100, 100]);
    expect(allocator.available).toBe(185);
  });

  it('when blocks go fast, then they grow up to the maximum; when they go slowly, they shrink back', async () => {
    const durable = store();
    let clock = 0;
    const allocator = new BlockAllocator(durable.reserve, policy(), () => undefined, () => clock);
    for (let i = 0; i < 40; i += 1) await allocator.take(10);
    expect(Math.max(...durable.sizes)).toBe(80);
    clock += 10_000;
    await allocator.take(allocator.available + 1);
    expect(durable.sizes.at(-1)).toBeLessThan(80);
  });

  it('when a reservation fails, then the caller gets the error, what memory holds is still served, and nothing is invented', async () => {
    const durable = store();
    const failures: unknown[] = [];
    const allocator = new BlockAllocator(durable.reserve, policy({ blockSize: 10, maxBlockSize: 10 }), (e) => failures.push(e));
    await allocator.take(1);
    durable.failWith(new Error('lock store down'));
    await settle();
    const served = await allocator.take(allocator.available);
    expect(served.every((v) => v <= 20)).toBe(true);
    await expect(allocator.take(1)).rejects.toThrow('lock store down');
    durable.failWith(undefined);
    const [after] = await allocator.take(1);
    expect(after).toBeGreaterThan(Math.max(...served));
  });

  it('when more values are asked for than a block holds, then one reservation covers them', async () => {
    const durable = store();
    const allocator = new BlockAllocator(durable.reserve, policy({ blockSize: 1, maxBlockSize: 1 }), () => undefined);
    const values = await allocator.take(100);
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(durable.sizes[0]).toBe(100);
  });
});

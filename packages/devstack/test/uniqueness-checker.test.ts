import { startUniquenessCheck } from '../src/testing/uniqueness-checker';

describe('the uniqueness checker', () => {
  it('when every value is new, then it reports no duplicates and stops at the count', async () => {
    let next = 1;
    const run = startUniquenessCheck({ clients: 4, maxValues: 100, maxMs: 10_000, call: async () => [next++, next++] });
    const report = await run.result;
    expect(report.duplicates).toEqual([]);
    expect(report.values.length).toBeGreaterThanOrEqual(100);
    expect(report.values.length).toBeLessThan(100 + 4 * 2 + 1);
    expect(report.increasingPerClient).toBe(true);
  });

  it('when a value comes twice, then it is named, and retries are counted but add nothing', async () => {
    let calls = 0;
    const run = startUniquenessCheck({
      clients: 1,
      maxValues: 5,
      maxMs: 10_000,
      retryPauseMs: 1,
      call: async () => {
        calls += 1;
        if (calls === 2) return 'retry';
        return calls === 3 ? [7] : [calls * 10];
      },
    });
    const report = await run.result;
    expect(report.retries).toBe(1);
    expect(report.values).toEqual([10, 7, 40, 50, 60]);
    expect(report.increasingPerClient).toBe(false);
    expect(report.duplicates).toEqual([]);
  });

  it('when it runs past its time, then it stops there', async () => {
    const run = startUniquenessCheck({ clients: 2, maxValues: 1e9, maxMs: 200, call: () => new Promise((resolve) => setImmediate(() => resolve([1]))) });
    const report = await run.result;
    expect(report.duplicates).toEqual([1]);
    expect(report.elapsedMs).toBeLessThan(5_000);
  });
});

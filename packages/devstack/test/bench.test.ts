import { parseProcStat } from '../src/bench/cpu';
import type { Measurement } from '../src/bench/framework';
import { formatCheck, formatTable, shareCheck } from '../src/bench/report';
import { median, percent } from '../src/bench/stats';
import { parseWrkOutput, wrkArgs } from '../src/bench/wrk';

const measurement = (name: string, requestsPerSecond: number, errors = 0): Measurement => ({
  name,
  connections: 16,
  requestsPerSecond,
  p50Ms: 4.2,
  p99Ms: 12.5,
  errors,
  statusErrors: errors,
  runs: [],
  cpuMsPerRequest: new Map(),
});

describe('median', () => {
  it('when the count is odd, then it is the middle value regardless of order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });
  it('when the count is even, then it is the mean of the two middle values', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('when there are no values, then it is NaN rather than a made-up number', () => {
    expect(median([])).toBeNaN();
  });
  it('when values are given, then the input array is left unsorted', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('reading wrk', () => {
  const output = `Running 10s test @ http://127.0.0.1:1234/hello
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.10ms    1.20ms  30.00ms   90.00%
  30000 requests in 10.00s, 4.00MB read
Requests/sec:   3000.00
Transfer/sec:    409.60KB
MERCATO_WRK {"requests":30000,"durationUs":10000000,"p50Us":4850.0,"p99Us":12100.5,"connect":0,"read":1,"write":0,"status":2,"timeout":0}
`;

  it('when the summary line is present, then requests/s, p50, p99 and errors come from it', () => {
    expect(parseWrkOutput(output)).toEqual({
      requests: 30000,
      seconds: 10,
      requestsPerSecond: 3000,
      p50Ms: 4.85,
      p99Ms: 12.1005,
      errors: 3,
      statusErrors: 2,
    });
  });

  it("when wrk printed no summary (e.g. it could not connect), then the error carries wrk's own output", () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/Connection refused/);
  });

  it('when headers are given, then each becomes one -H and threads never exceed connections', () => {
    const args = wrkArgs({ url: 'http://x/y', headers: { authorization: 'Bearer t' }, connections: 1, seconds: 5 }, '/s.lua');
    expect(args).toEqual(['-t1', '-c1', '-d5s', '--timeout', '10s', '-s', '/s.lua', '-H', 'authorization: Bearer t', 'http://x/y']);
  });
});

describe('reading /proc/<pid>/stat', () => {
  it('when the command name holds spaces and parentheses, then fields are still counted from the last one', () => {
    const line = '4242 (my (odd) proc) S 1 4240 4240 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 1000 0 0';
    expect(parseProcStat(line)).toEqual({ pid: 4242, pgrp: 4240, cpuTicks: 300 });
  });
  it('when the text is not a stat line, then it throws', () => {
    expect(() => parseProcStat('garbage')).toThrow(/not a \/proc/);
  });
});

describe('the report', () => {
  it('when rows are printed, then each shows its share of the ceiling', () => {
    const lines = formatTable([measurement('ceiling', 2000), measurement('route', 1500)], measurement('ceiling', 2000));
    expect(lines[0]).toMatch(/^case\s+conns\s+req\/s\s+p50 ms\s+p99 ms\s+of ceiling$/);
    expect(lines[1]).toMatch(/ceiling\s+16\s+2000\s+4\.20\s+12\.50\s+100%$/);
    expect(lines[2]).toMatch(/route\s+16\s+1500\s+4\.20\s+12\.50\s+75%$/);
  });
  it('when a row had failed requests, then an errors column shows them', () => {
    const lines = formatTable([measurement('broken', 10, 7)], measurement('ceiling', 2000));
    expect(lines[0]).toMatch(/errors$/);
    expect(lines[1]).toMatch(/\s7$/);
  });
  it('when a share meets its target exactly, then the check passes; below it, it fails', () => {
    const ceiling = measurement('ceiling', 2000);
    expect(formatCheck(shareCheck('route ≥ 75%', measurement('a', 1500), ceiling, 0.75))).toBe(
      'PASS  route ≥ 75%: 75% of 2000 req/s (target ≥ 75%)',
    );
    expect(shareCheck('route ≥ 75%', measurement('b', 1400), ceiling, 0.75).pass).toBe(false);
  });
  it('when a row ran beside the ceiling, then its share is the median of its runs each against the ceiling run before it', () => {
    const run = (requestsPerSecond: number) => ({ requestsPerSecond, p50Ms: 1, p99Ms: 2, errors: 0, statusErrors: 0, requests: 0, seconds: 10 });
    // The machine slowed between the pairs: the overall medians (1,200 against 2,000) would say 60%, each pair says 80%.
    const row: Measurement = { ...measurement('route', 1200), runs: [run(1600), run(1200), run(800)], besideRuns: [run(2000), run(1500), run(1000)] };
    const check = shareCheck('route ≥ 75%', row, measurement('ceiling', 2000), 0.75);
    expect(check.pass).toBe(true);
    expect(formatCheck(check)).toBe(
      'PASS  route ≥ 75%: 80%, the median of 3 runs each against a ceiling run just before it (80%, 80%, 80%; the ceiling 2000, 1500, 1000 req/s) (target ≥ 75%)',
    );
  });
  it('when a share is printed, then it is rounded to whole percent', () => {
    expect(percent(1, 3)).toBe('33%');
  });
});

import type { Stack } from '../stack';
import type { ServiceSpec } from '../services';
import { groupTicks, ticksPerSecond } from './cpu';
import { median } from './stats';
import { runWrk, type LoadResult } from './wrk';

/** What every load run uses; each value can be set from the environment (see docs/runtime.md). */
export interface BenchSettings {
  seconds: number;
  warmupSeconds: number;
  runs: number;
  connections: number;
  threads: number;
}

export interface Target {
  /** Shown in the table, e.g. "hello via nginx + daprd". */
  name: string;
  url: string;
  /** GET when absent. */
  method?: 'GET' | 'POST';
  /** Asked for before every run, so a token never expires in the middle of a benchmark. */
  headers?: () => Promise<Record<string, string>>;
}

export interface MeasureOptions {
  /** Defaults to the settings' connections. */
  connections?: number;
  /**
   * CPU time per request of the stack's processes during the runs: maps a supervised process name
   * (`daprd-categories-1`, `nginx`, …) to the label it is summed under, or undefined to leave it out.
   */
  cpuOf?: (processName: string) => string | undefined;
  /**
   * A target run in alternation with this one, at the same connections — run i of `beside` just before run i of this
   * one — for a share of it (`shareCheck`): this machine's speed drifts by a fifth and more over the minutes a
   * benchmark takes, and a ceiling measured minutes apart from a row moved its share by as much. Paired runs see the
   * same moment.
   */
  beside?: Target;
}

/** The median of `runs` load runs of one target: requests/s, p50, p95 and p99 each the median of their own values. */
export interface Measurement {
  name: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  /** Not in the table (its columns are shared by every benchmark); for targets stated as a p95. */
  p95Ms?: number;
  p99Ms: number;
  /** Non-2xx/3xx responses and socket errors over all runs; a benchmark with any fails. */
  errors: number;
  /** Of `errors`, the responses with status ≥ 400. */
  statusErrors: number;
  runs: readonly LoadResult[];
  /** Median CPU milliseconds per request, by label, with the processes' idle CPU taken out (only with `cpuOf`). */
  cpuMsPerRequest: ReadonlyMap<string, number>;
  /** With `beside`: its run i, taken just before run i of this target. */
  besideRuns?: readonly LoadResult[];
}

export interface Check {
  name: string;
  pass: boolean;
  /** The measured value against the target, e.g. "82% ≥ 75%". */
  detail: string;
}

export interface BenchReport {
  /** Printed as one table, each row with its share of the ceiling's requests/s. */
  rows: readonly Measurement[];
  /** Further lines under the table (CPU breakdowns, derived values). */
  notes?: readonly string[];
  /** Targets, printed as PASS/FAIL lines; a FAIL makes `npm run bench` exit non-zero. */
  checks?: readonly Check[];
}

export interface BenchContext {
  stack: Stack;
  settings: BenchSettings;
  /** Warm-up, then `settings.runs` wrk runs of the target; the median of them. */
  measure(target: Target, options?: MeasureOptions): Promise<Measurement>;
  /**
   * The platform's ceiling: the hello-world app behind nginx + daprd, measured once per `npm run bench` and shared by
   * every benchmark, so "x% of the ceiling" means the same in each.
   */
  ceiling(): Promise<Measurement>;
  /** `authorization` (and nothing else) for a fresh token of a demo user. */
  bearer(username?: string): Promise<Record<string, string>>;
  progress(message: string): void;
}

/**
 * One benchmark: a file under bench/benchmarks/ and one line in bench/registry.ts. It may add its own services to the
 * stack (started only when it is selected) and gets the shared stack, the ceiling and the load runner.
 */
export interface Benchmark {
  name: string;
  /** One line for `npm run bench -- --list`. */
  description: string;
  services?: readonly ServiceSpec[];
  run(context: BenchContext): Promise<BenchReport>;
}

/** Runs wrk `runs` times after a warm-up, with fresh headers each time, recording CPU per process when asked. */
export async function measureTarget(
  stack: Stack,
  settings: BenchSettings,
  workDir: string,
  target: Target,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const connections = options.connections ?? settings.connections;
  const loadOf = (of: Target) => async (seconds: number) =>
    runWrk({ url: of.url, method: of.method, headers: await of.headers?.(), connections, seconds, threads: settings.threads }, workDir);
  const load = loadOf(target);
  const besideLoad = options.beside ? loadOf(options.beside) : undefined;
  // What the processes burn with no requests at all (daprd's placement, scheduler and name-resolution traffic, relays):
  // left in, it would be charged to the requests, the more so the fewer there are.
  const idleTicksPerSecond = options.cpuOf ? await idleRates(stack, options.cpuOf) : new Map<string, number>();
  await besideLoad?.(settings.warmupSeconds);
  await load(settings.warmupSeconds);
  const runs: LoadResult[] = [];
  const besideRuns: LoadResult[] = [];
  const cpuRuns = new Map<string, number[]>();
  for (let i = 0; i < settings.runs; i++) {
    if (besideLoad) besideRuns.push(await besideLoad(settings.seconds));
    const groups = options.cpuOf ? labelledGroups(stack, options.cpuOf) : new Map<number, string>();
    const before = groupTicks(new Set(groups.keys()));
    const result = await load(settings.seconds);
    const after = groupTicks(new Set(groups.keys()));
    runs.push(result);
    for (const [label, ticks] of ticksByLabel(groups, before, after)) {
      const busyTicks = Math.max(0, ticks - (idleTicksPerSecond.get(label) ?? 0) * result.seconds);
      const perRequest = result.requests > 0 ? ((busyTicks / ticksPerSecond) * 1000) / result.requests : Number.NaN;
      cpuRuns.set(label, [...(cpuRuns.get(label) ?? []), perRequest]);
    }
  }
  return {
    name: target.name,
    connections,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p95Ms: median(runs.map((r) => r.p95Ms ?? Number.NaN)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    statusErrors: runs.reduce((sum, r) => sum + r.statusErrors, 0),
    runs,
    cpuMsPerRequest: new Map([...cpuRuns].map(([label, values]) => [label, median(values)])),
    ...(besideLoad ? { besideRuns } : {}),
  };
}

const idleSeconds = 3;

/**
 * Waits until the named processes together use less than `maxShare` of a core over a second (or `timeoutMs` passed),
 * and returns how long that took: after a restart that loads much (an index of 100,000 products) a process keeps
 * collecting garbage for a while, and an idle baseline taken then would be larger than the load's own cost.
 */
export async function waitUntilQuiet(stack: Stack, processNames: readonly string[], maxShare = 0.1, timeoutMs = 180_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const pids = new Set(processNames.map((name) => stack.pidOf(name)).filter((pid): pid is number => pid !== undefined && pid > 0));
    const before = groupTicks(pids);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = groupTicks(pids);
    const ticks = [...pids].reduce((sum, pid) => sum + (after.get(pid) ?? 0) - (before.get(pid) ?? 0), 0);
    const waited = performance.now() - started;
    if (ticks / ticksPerSecond < maxShare || waited > timeoutMs) return waited;
  }
}

async function idleRates(stack: Stack, cpuOf: (processName: string) => string | undefined): Promise<Map<string, number>> {
  const groups = labelledGroups(stack, cpuOf);
  const before = groupTicks(new Set(groups.keys()));
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const after = groupTicks(new Set(groups.keys()));
  return new Map([...ticksByLabel(groups, before, after)].map(([label, ticks]) => [label, ticks / idleSeconds]));
}

function ticksByLabel(groups: ReadonlyMap<number, string>, before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): Map<string, number> {
  const perLabel = new Map<string, number>();
  for (const [pgid, label] of groups) {
    const ticks = (after.get(pgid) ?? 0) - (before.get(pgid) ?? 0);
    perLabel.set(label, (perLabel.get(label) ?? 0) + ticks);
  }
  return perLabel;
}

/** Process group id → label, for every supervised process the caller wants counted (looked up per run: restarts). */
function labelledGroups(stack: Stack, cpuOf: (processName: string) => string | undefined): Map<number, string> {
  const groups = new Map<number, string>();
  for (const name of stack.processNames()) {
    const label = cpuOf(name);
    const pid = label ? stack.pidOf(name) : undefined;
    if (label && pid && pid > 0) groups.set(pid, label);
  }
  return groups;
}

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Stack } from '../../stack';
import { httpOk, waitUntil } from '../../wait';
import { groupTicks, ticksPerSecond } from '../cpu';
import type { BenchContext, BenchReport, Benchmark, Check, Measurement } from '../framework';
import { shareCheck } from '../report';
import { median } from '../stats';
import { parseWrkOutput, wrkArgs, wrkScript, type LoadResult } from '../wrk';

const runFile = promisify(execFile);

/** Targets, from issue 9 ("Tests and benchmark"), for the mixed load with activity reporting on. */
export const targets = {
  requestsPerSecond: 1000,
  p99Ms: 100,
  ceilingShare: 0.4,
};

/** Users made before the load; the reads and updates pick among them. */
const userCount = 1000;
/** Concurrent POSTs while setting up: enough to keep both replicas busy without queueing on the sequence service. */
const setUpClients = 16;
/** The mix, in percent of requests: reads, then updates (PATCH name); the rest are creates. */
const mix = { reads: 70, updates: 20 };
const usersReplicas = ['users-1', 'users-2'];

/**
 * The load as wrk's Lua sees it: each request picks its kind and user at random, so ids and bodies vary per request
 * (wrk can: `request()` builds every request), and creates get addresses no other run or thread uses. The `done` hook
 * is wrk.ts's, so percentiles and errors are read exactly as the other benchmarks read them.
 */
function mixedLoadScript(idsFile: string, runTag: string): string {
  return `local ids = {}
local created = 0
local counter = 0
-- thread_index is a global each thread gets from setup (a local here would hide it).
setup = function(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
end
local json_headers
init = function(args)
  for line in io.lines("${idsFile}") do ids[#ids + 1] = line end
  thread_index = thread_index or 0
  math.randomseed(os.time() * 100 + thread_index)
  json_headers = { ["Content-Type"] = "application/json" }
  for name, value in pairs(wrk.headers) do json_headers[name] = value end
end
request = function()
  local roll = math.random(100)
  if roll <= ${mix.reads} then
    return wrk.format("GET", "/api/users/" .. ids[math.random(#ids)], wrk.headers)
  elseif roll <= ${mix.reads + mix.updates} then
    return wrk.format("PATCH", "/api/users/" .. ids[math.random(#ids)], json_headers,
      '{"name":"Bench Person ' .. math.random(1000000) .. '"}')
  end
  created = created + 1
  return wrk.format("POST", "/api/users", json_headers,
    '{"email":"bench-${runTag}-' .. thread_index .. '-' .. created .. '@example.com","name":"Bench New ' .. created .. '"}')
end
${wrkScript}`;
}

// ---- CPU: which process kept the cores busy during the load (the answer to "what limits the throughput") ----

/** Every supervised process, labelled by app (replicas summed): `users app`, `daprd (users)`, `FerretDB`, … */
const processLabel = (name: string): string => {
  const sidecar = /^daprd-(.+?)(-\d+)?$/.exec(name);
  if (sidecar) return `daprd (${sidecar[1]})`;
  const app = /^(.+?)-\d+$/.exec(name);
  return app ? `${app[1]} app` : name;
};

/** This process's reaped children's CPU (cutime + cstime of /proc/self/stat): wrk's, once it has exited. */
function childrenTicks(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/);
  return Number(fields[16 - 3]) + Number(fields[17 - 3]);
}

/** Busy and total jiffies of the whole machine (the first line of /proc/stat), everyone's work included. */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

interface CpuSample {
  groups: Map<number, string>;
  ticks: Map<number, number>;
  children: number;
  machine: { busy: number; total: number };
}

function sampleCpu(stack: Stack): CpuSample {
  const groups = new Map<number, string>();
  for (const name of stack.processNames()) {
    const pid = stack.pidOf(name);
    if (pid && pid > 0) groups.set(pid, processLabel(name));
  }
  return { groups, ticks: groupTicks(new Set(groups.keys())), children: childrenTicks(), machine: machineTicks() };
}

/**
 * Cores each label kept busy during one run (1.00 = one core the whole time), wrk's own included, and under
 * `machine` the cores the whole machine was busy (others' work too: what the platform could not have).
 */
function coresBusy(before: CpuSample, seconds: number): Map<string, number> {
  const after = groupTicks(new Set(before.groups.keys()));
  const cores = new Map<string, number>();
  for (const [pgid, label] of before.groups) {
    // A process restarted meanwhile has a new group: never count below zero.
    const ticks = Math.max(0, (after.get(pgid) ?? 0) - (before.ticks.get(pgid) ?? 0));
    cores.set(label, (cores.get(label) ?? 0) + ticks / ticksPerSecond / seconds);
  }
  cores.set('wrk (load)', (childrenTicks() - before.children) / ticksPerSecond / seconds);
  const machine = machineTicks();
  cores.set(machineLabel, ((machine.busy - before.machine.busy) / Math.max(1, machine.total - before.machine.total)) * cpus().length);
  return cores;
}

const machineLabel = 'whole machine';

// ---- The load ----

/**
 * One wrk run of the mixed load; the script's `done` hook prints the summary wrk.ts parses. Each run gets its own tag
 * for the addresses it creates: wrk starts its counters afresh every run, and a repeated address would answer 409.
 */
async function runMixedLoad(context: BenchContext, load: MixedLoad, seconds: number): Promise<LoadResult> {
  const { stack, settings } = context;
  const scriptFile = path.join(load.workDir, 'users-mixed.lua');
  writeFileSync(scriptFile, mixedLoadScript(load.idsFile, `${load.tag}-${randomUUID().slice(0, 8)}`));
  const args = wrkArgs(
    { url: stack.ingressUrl, headers: await context.bearer('admin'), connections: settings.connections, seconds, threads: settings.threads },
    scriptFile,
  );
  // Bounded by `seconds` (wrk stops itself) plus a margin after which it is killed; a failure throws with its output.
  const { stdout } = await runFile('wrk', args, { timeout: (seconds + 30) * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 20 });
  return parseWrkOutput(stdout);
}

/** Where a load's script and the set-up's ids live, and the tag its created addresses start with. */
interface MixedLoad {
  workDir: string;
  idsFile: string;
  tag: string;
}

interface Phase {
  row: Measurement;
  /** Median cores busy per label over the runs. */
  cores: Map<string, number>;
  /** Requests wrk completed in all runs of the phase, warm-up included (what the actor should have counted). */
  requests: number;
}

/** Warm-up, then `settings.runs` runs; each figure the median of its runs, as the framework's `measure` does. */
async function measureMixedLoad(context: BenchContext, name: string, load: MixedLoad): Promise<Phase> {
  const { settings, stack } = context;
  const warmUp = await runMixedLoad(context, load, settings.warmupSeconds);
  const runs: LoadResult[] = [];
  const coreRuns = new Map<string, number[]>();
  for (let i = 0; i < settings.runs; i++) {
    const before = sampleCpu(stack);
    const result = await runMixedLoad(context, load, settings.seconds);
    runs.push(result);
    for (const [label, cores] of coresBusy(before, result.seconds)) coreRuns.set(label, [...(coreRuns.get(label) ?? []), cores]);
  }
  return {
    row: {
      name,
      connections: settings.connections,
      requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
      p50Ms: median(runs.map((r) => r.p50Ms)),
      p95Ms: median(runs.map((r) => r.p95Ms ?? Number.NaN)),
      p99Ms: median(runs.map((r) => r.p99Ms)),
      errors: [warmUp, ...runs].reduce((sum, r) => sum + r.errors, 0),
      statusErrors: [warmUp, ...runs].reduce((sum, r) => sum + r.statusErrors, 0),
      runs,
      cpuMsPerRequest: new Map(),
    },
    cores: new Map([...coreRuns].map(([label, values]) => [label, median(values)])),
    requests: [warmUp, ...runs].reduce((sum, r) => sum + r.requests, 0),
  };
}

// ---- Set-up and the reporting switch ----

/** `userCount` users through the API as admin, `setUpClients` at a time; their ids. */
async function createUsers(context: BenchContext, runTag: string): Promise<string[]> {
  const headers = { ...(await context.bearer('admin')), 'content-type': 'application/json' };
  const ids: string[] = [];
  let next = 0;
  const client = async () => {
    while (next < userCount) {
      const index = next++;
      const response = await fetch(`${context.stack.ingressUrl}/api/users`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ email: `bench-${runTag}-setup-${index}@example.com`, name: `Bench Person ${index}` }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await response.text();
      if (response.status !== 201) throw new Error(`POST /api/users answered ${response.status}: ${body.slice(0, 300)}`);
      ids.push((JSON.parse(body) as { id: string }).id);
    }
  };
  await Promise.all(Array.from({ length: setUpClients }, client));
  return ids;
}

/**
 * Restarts both users replicas (same ports, sidecars and data) with ACTIVITY_REPORTING=off laid over their env by the
 * stack's `setAppEnv`, or with the stack's own env ("on": the devstack sets it whenever the actor host runs). The
 * reporter is made from the config at start, so only a restart changes it; both phases restart, so both start equally
 * cold and differ in that setting alone.
 */
async function restartUsers(stack: Stack, reporting: 'on' | 'off'): Promise<void> {
  for (const name of usersReplicas) {
    stack.setAppEnv(name, reporting === 'off' ? { ACTIVITY_REPORTING: 'off' } : undefined);
    await stack.stopProcess(name);
    await stack.startProcess(name);
  }
  await Promise.all(
    (stack.replicas['users'] ?? []).map((sidecar) =>
      waitUntil(`users-${sidecar.replica} /readyz`, httpOk(`http://127.0.0.1:${sidecar.appPort}/readyz`), { timeoutMs: 60_000 }),
    ),
  );
}

/**
 * The users-service requests admin's UserActivity actor holds over all its days (so a run across midnight UTC adds up);
 * the read is itself a request, counted when reporting is on.
 */
async function adminCounted(context: BenchContext): Promise<number> {
  const response = await fetch(`${context.stack.ingressUrl}/api/users/me/stats`, { headers: await context.bearer('admin') });
  if (response.status !== 200) throw new Error(`GET /api/users/me/stats answered ${response.status}: ${await response.text()}`);
  const stats = (await response.json()) as { days?: Record<string, Record<string, number>> };
  return Object.values(stats.days ?? {}).reduce((total, day) => total + (day['users'] ?? 0), 0);
}

/** Reports leave a second or so after the requests (coalesced per person and second); this waits them out. */
const reportsSettleMs = 4000;
const inFlightBound = (context: BenchContext) => context.settings.connections * (context.settings.runs + 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The mixed load with reporting at `reporting`, and how many of its requests admin's actor counted. */
async function phase(context: BenchContext, reporting: 'on' | 'off', load: MixedLoad): Promise<Phase & { counted: number }> {
  context.progress(`users: restarting users-1 and users-2 with ACTIVITY_REPORTING=${reporting}`);
  await restartUsers(context.stack, reporting);
  const countedBefore = await adminCounted(context);
  context.progress(`users: mixed load, reporting ${reporting}`);
  const result = await measureMixedLoad(context, `mixed 70/20/10, reporting ${reporting}`, { ...load, tag: `${load.tag}-${reporting}` });
  await sleep(reportsSettleMs);
  return { ...result, counted: (await adminCounted(context)) - countedBefore };
}

/** The processes over 0.01 cores, busiest first, each with its CPU per request; then the whole machine. */
const cpuLine = (cores: ReadonlyMap<string, number>, requestsPerSecond: number): string =>
  [...cores]
    .filter(([label, value]) => value >= 0.01 && label !== machineLabel)
    .sort((a, b) => b[1] - a[1])
    .map(([label, value]) => `${label} ${value.toFixed(2)} (${((value * 1000) / requestsPerSecond).toFixed(2)} ms/req)`)
    .concat(`${machineLabel} ${(cores.get(machineLabel) ?? 0).toFixed(2)} of ${cpus().length}`)
    .join(', ');

export const usersBenchmark: Benchmark = {
  name: 'users',
  description: '70% reads, 20% PATCH, 10% creates as admin over 1,000 users, activity reporting off and on',
  async run(context): Promise<BenchReport> {
    const runTag = randomUUID().slice(0, 8);
    const workDir = mkdtempSync(path.join(tmpdir(), 'mercato-bench-users-'));
    try {
      const ceiling = await context.ceiling();

      context.progress(`users: creating ${userCount} users through POST /api/users, ${setUpClients} at a time`);
      const setUpStarted = performance.now();
      const ids = await createUsers(context, runTag);
      const setUpSeconds = (performance.now() - setUpStarted) / 1000;
      const idsFile = path.join(workDir, 'user-ids.txt');
      writeFileSync(idsFile, `${ids.join('\n')}\n`);

      // Off first, then on: the platform ends as it began (the stack's own env, reporting on), and the "on" phase, which
      // the targets are about, meets the larger collection (its creates come after the "off" phase's).
      const load = { workDir, idsFile, tag: runTag };
      const off = await phase(context, 'off', load);
      const on = await phase(context, 'on', load);

      const cost = {
        requestsPerSecond: (on.row.requestsPerSecond - off.row.requestsPerSecond) / off.row.requestsPerSecond,
        p99Ms: on.row.p99Ms - off.row.p99Ms,
      };
      const checks: Check[] = [
        {
          name: `mixed load, reporting on ≥ ${targets.requestsPerSecond.toLocaleString('en-US')} req/s`,
          pass: on.row.requestsPerSecond >= targets.requestsPerSecond,
          detail: `${on.row.requestsPerSecond.toFixed(0)} req/s`,
        },
        {
          name: `mixed load, reporting on: p99 < ${targets.p99Ms} ms`,
          pass: on.row.p99Ms < targets.p99Ms,
          detail: `p99 ${on.row.p99Ms.toFixed(1)} ms`,
        },
        shareCheck(`mixed load, reporting on ≥ ${targets.ceilingShare * 100}% of the ceiling`, on.row, ceiling, targets.ceilingShare),
        {
          name: 'reporting on counts the load on the person\'s actor, reporting off does not',
          // wrk leaves out what is in flight when a run ends (up to a request per connection and run), which the
          // service still answers and counts; the stats read after the load is counted too.
          pass: on.counted >= on.requests && on.counted <= on.requests + inFlightBound(context) + 1 && off.counted === 0,
          detail: `on: ${on.counted} counted for ${on.requests} requests; off: ${off.counted} counted for ${off.requests} requests`,
        },
      ];
      return {
        rows: [ceiling, off.row, on.row],
        notes: [
          `set-up: ${userCount} users through POST /api/users in ${setUpSeconds.toFixed(1)} s (${(userCount / setUpSeconds).toFixed(0)} creates/s, ${setUpClients} clients)`,
          `load: wrk with a Lua script (${mix.reads}% GET /api/users/{id}, ${mix.updates}% PATCH name, ${100 - mix.reads - mix.updates}% POST, ids and bodies varied per request), as admin`,
          `p95: reporting off ${off.row.p95Ms?.toFixed(1)} ms, on ${on.row.p95Ms?.toFixed(1)} ms`,
          `cost of reporting (on vs off): ${(cost.requestsPerSecond * 100).toFixed(1)}% req/s, p99 ${cost.p99Ms >= 0 ? '+' : ''}${cost.p99Ms.toFixed(1)} ms`,
          `CPU, reporting off, cores busy: ${cpuLine(off.cores, off.row.requestsPerSecond)}`,
          `CPU, reporting on, cores busy: ${cpuLine(on.cores, on.row.requestsPerSecond)}`,
          `targets (reporting on): ≥ ${targets.requestsPerSecond} req/s, p99 < ${targets.p99Ms} ms, ≥ ${targets.ceilingShare * 100}% of the ceiling`,
        ],
        checks,
      };
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  },
};

import { loadDemoMemes } from '../../demo-memes';
import { fetchToken } from '../../keycloak';
import { replicaName } from '../../services';
import type { Stack } from '../../stack';
import { httpOk, waitUntil } from '../../wait';
import type { BenchReport, Benchmark, Measurement, Target } from '../framework';

/**
 * Searches of the memes service through the whole request path (nginx → daprd with the bearer check → memes app, its
 * index in memory) beside the hello-world ceiling; the per-minute quota's `consume` on the person's actor (memes app →
 * its daprd → the activity host's daprd → the actor → Redis) is measured apart by restarting memes with it off.
 */

/** Every process a search may keep busy, summed by what it is (both replicas of an app together). */
const searchPath = (name: string): string | undefined => {
  const sidecar = /^daprd-(memes|activity)-\d+$/.exec(name);
  if (sidecar) return `daprd (${sidecar[1]})`;
  const app = /^(memes|activity)-\d+$/.exec(name);
  if (app) return `${app[1]} app`;
  if (name === 'nginx' || name === 'redis' || name === 'ferretdb') return name;
  return undefined;
};

/** A demo location (services/memes/src/domain/demo-locations.ts: memes within 5 km of 20 cities): Mexico City. */
const place = 'lat=19.4326&lon=-99.1332&radiusKm=50';
/** The searches, as a person would send them; `courage` is in 100+ memes, `corage` is one edit away from it. */
const searches = {
  plain: 'query=courage',
  fuzzy: 'query=corage&fuzzy=true',
  geo: `query=courage&${place}`,
  nearby: place,
} as const;

/** Limits no run reaches (the actor's most), so the quota is checked on every search and never stops one. */
const unstoppedQuota = { MEMES_FREE_SEARCHES_PER_MINUTE: '1000000', MEMES_PREMIUM_SEARCHES_PER_MINUTE: '1000000' };

/**
 * Restarts both memes replicas with `env` laid over the stack's (undefined: the stack's own) and waits until each is
 * ready, which is after its index is loaded from MongoDB: the config is read at start, so only a restart changes it.
 */
async function restartMemes(stack: Stack, env: Record<string, string> | undefined): Promise<void> {
  const replicas = stack.replicas['memes'] ?? [];
  for (const sidecar of replicas) {
    const name = replicaName('memes', sidecar.replica);
    stack.setAppEnv(name, env);
    await stack.stopProcess(name);
    await stack.startProcess(name);
    await waitUntil(`${name} /readyz`, httpOk(`http://127.0.0.1:${sidecar.appPort}/readyz`), { timeoutMs: 120_000 });
  }
}

const fixed = (value: number | undefined, digits = 1) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const signed = (value: number, digits = 1) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
const cpuTotal = (m: Measurement) => [...m.cpuMsPerRequest.values()].reduce((sum, ms) => sum + ms, 0);
const cpuLine = (m: Measurement) =>
  `${[...m.cpuMsPerRequest]
    .filter(([, ms]) => ms >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([label, ms]) => `${label} ${ms.toFixed(2)}`)
    .join(', ')} (total ${cpuTotal(m).toFixed(2)} ms)`;

export const memesBenchmark: Benchmark = {
  name: 'memes',
  description: 'plain, fuzzy and geo searches over the 4,656 memes, the quota on and off, against the hello-world ceiling',
  async run(context): Promise<BenchReport> {
    const { stack } = context;
    const ceiling = await context.ceiling();
    context.progress('memes: importing the corpus through POST /api/memes/import');
    const imported = await loadDemoMemes({ ingressUrl: stack.ingressUrl, token: () => fetchToken(stack.keycloakUrl, { username: 'admin', password: 'admin' }) });
    // One person (viewer: no premium, so no generated memes in the page) for every search: the worst case for the
    // quota, whose calls for one person are served one at a time by their actor.
    const viewer = () => context.bearer('viewer');
    const premium = () => context.bearer('premium');
    const target = (name: string, query: string, headers = viewer): Target => ({ name, url: `${stack.ingressUrl}/api/memes?${query}`, headers });
    const measure = (name: string, query: string, headers = viewer) => context.measure(target(name, query, headers), { cpuOf: searchPath });

    try {
      context.progress('memes: restarting memes-1 and memes-2 with the quota on and limits no run reaches');
      await restartMemes(stack, unstoppedQuota);
      context.progress('memes: plain, fuzzy, geo and nearby searches, quota on');
      const plain = await measure('plain search (quota on)', searches.plain);
      const fuzzy = await measure('fuzzy search, one typo (quota on)', searches.fuzzy);
      const geo = await measure('geo search with text (quota on)', searches.geo);
      const nearby = await measure('geo, no text: all by distance (quota on)', searches.nearby);
      const asPremium = await measure('plain as premium, +2 generated (quota on)', searches.plain, premium);

      context.progress('memes: restarting memes-1 and memes-2 with the quota off (MEMES_SEARCH_QUOTA=off)');
      await restartMemes(stack, { ...unstoppedQuota, MEMES_SEARCH_QUOTA: 'off' });
      const plainOff = await measure('plain search (quota off)', searches.plain);
      const fuzzyOff = await measure('fuzzy search, one typo (quota off)', searches.fuzzy);

      const quotaCost = (on: Measurement, off: Measurement) =>
        `${signed(((on.requestsPerSecond - off.requestsPerSecond) / off.requestsPerSecond) * 100)}% req/s, ` +
        `p50 ${signed(on.p50Ms - off.p50Ms, 2)} ms, p95 ${signed((on.p95Ms ?? Number.NaN) - (off.p95Ms ?? Number.NaN), 2)} ms, ` +
        `CPU ${signed(cpuTotal(on) - cpuTotal(off), 2)} ms per search`;
      const rows = [ceiling, plain, fuzzy, geo, nearby, asPremium, plainOff, fuzzyOff];
      return {
        rows,
        notes: [
          `corpus: ${imported.created} memes imported now, ${imported.skipped} already there or without a base; searches as one person (viewer) unless named`,
          `p95 (ms): ${rows.map((r) => `${r.name} ${fixed(r.p95Ms, 2)}`).join('; ')}`,
          `ratio to the ceiling's ${ceiling.requestsPerSecond.toFixed(0)} req/s: ${rows.slice(1).map((r) => `${r.name} ${(r.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}×`).join('; ')}`,
          `cost of the quota (on vs off), plain: ${quotaCost(plain, plainOff)}`,
          `cost of the quota (on vs off), fuzzy: ${quotaCost(fuzzy, fuzzyOff)}`,
          ...rows.slice(1).map((r) => `CPU ms per request, ${r.name}: ${cpuLine(r)}`),
          `CPU ms per ceiling request: ${cpuLine(ceiling)}`,
        ],
      };
    } finally {
      context.progress('memes: restarting memes-1 and memes-2 with the stack\'s own settings');
      await restartMemes(stack, undefined);
    }
  },
};

import type { BenchContext, BenchReport, Benchmark, Check, Measurement } from '../framework';
import { ceilingTarget, helloSpec } from '../hello';
import { shareCheck } from '../report';

const seedSlug = 'benchmark';

/** Which processes' CPU the read-by-slug run reports, by supervised process name. */
const categoriesPath = (name: string): string | undefined => {
  if (/^daprd-categories(-\d+)?$/.test(name)) return 'daprd';
  if (/^categories(-\d+)?$/.test(name)) return 'categories app';
  if (name === 'ferretdb') return 'FerretDB';
  if (name === 'nginx') return 'nginx';
  return undefined;
};

/** Targets, from the platform's performance issue: what a real route may cost relative to the hello-world ceiling. */
export const targets = {
  noDatabaseShare: 0.75,
  readBySlugShare: 0.4,
  /** Dapr's own performance report measures +1.06 ms p50 through two sidecars; one sidecar should stay under this. */
  daprdAddedP50Ms: 1.0,
};

async function seed(context: BenchContext): Promise<void> {
  const response = await fetch(`${context.stack.ingressUrl}/api/categories`, {
    method: 'POST',
    headers: { ...(await context.bearer('editor')), 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Benchmark', slug: seedSlug }),
  });
  if (response.status !== 201 && response.status !== 409) {
    throw new Error(`seeding the benchmark category failed: ${response.status} ${await response.text()}`);
  }
}

export const pathBenchmark: Benchmark = {
  name: 'path',
  description: 'what each hop of the request path costs, against the hello-world ceiling',
  async run(context): Promise<BenchReport> {
    const { stack } = context;
    const hello = stack.sidecars[helloSpec.appId];
    if (!hello?.appPort) throw new Error('the hello-world app is not part of the stack');
    await seed(context);
    const viewer = () => context.bearer('viewer');
    const viaDaprd = async () => ({ ...(await viewer()), 'dapr-api-token': hello.apiToken });
    const bareUrl = `http://127.0.0.1:${hello.appPort}/hello`;
    const daprdUrl = `http://127.0.0.1:${hello.httpPort}/v1.0/invoke/${helloSpec.appId}/method/hello`;

    context.progress('bare hello (straight to the app)');
    const bare = await context.measure({ name: 'bare hello (app port)', url: bareUrl });
    context.progress('hello via daprd');
    const daprd = await context.measure({ name: 'hello via daprd', url: daprdUrl, headers: viaDaprd });
    context.progress('hello via nginx + daprd (the ceiling)');
    const ceiling = await context.ceiling();
    context.progress('categories: a route without database');
    const openApiUrl = `${stack.ingressUrl}/api/categories/openapi.json`;
    // The two rows with a target run in alternation with the ceiling, so each share compares the same moment.
    const beside = ceilingTarget(stack, viewer);
    // wrk sends no Accept-Encoding, so this row is the plain body, as most API clients fetch it.
    const noDatabase = await context.measure(
      { name: 'categories openapi.json (no database)', url: openApiUrl, headers: viewer },
      { cpuOf: categoriesPath, beside },
    );
    // The same route answered 304 without its body (≈ 23 KB): what the app and the hops cost without the body's bytes.
    // Informational (no target): a client revalidating its copy sends If-None-Match, a first fetch does not.
    const etag = await openApiEtag(openApiUrl, await viewer());
    const revalidated = etag
      ? await context.measure(
          {
            name: 'categories openapi.json revalidated (304)',
            url: openApiUrl,
            headers: async () => ({ ...(await viewer()), 'if-none-match': etag }),
          },
          { cpuOf: categoriesPath },
        )
      : undefined;
    context.progress('categories: read by slug (no cache)');
    const bySlug = await context.measure(
      { name: `categories read by slug (no cache)`, url: `${stack.ingressUrl}/api/categories/${seedSlug}`, headers: viewer },
      { cpuOf: categoriesPath, beside },
    );
    context.progress('one connection: bare hello and hello via daprd');
    const bareOne = await context.measure({ name: 'bare hello (app port)', url: bareUrl }, { connections: 1 });
    const daprdOne = await context.measure({ name: 'hello via daprd', url: daprdUrl, headers: viaDaprd }, { connections: 1 });

    const addedP50 = daprdOne.p50Ms - bareOne.p50Ms;
    const checks: Check[] = [
      shareCheck('a route without database ≥ 75% of the ceiling', noDatabase, ceiling, targets.noDatabaseShare),
      shareCheck('a read by slug without cache ≥ 40% of the ceiling', bySlug, ceiling, targets.readBySlugShare),
      {
        name: "daprd's added p50 at one connection ≤ 1.0 ms",
        pass: addedP50 <= targets.daprdAddedP50Ms,
        detail: `${addedP50.toFixed(2)} ms (${daprdOne.p50Ms.toFixed(2)} − ${bareOne.p50Ms.toFixed(2)}; Dapr's own report: +1.06 ms through two sidecars)`,
      },
    ];
    return {
      rows: [bare, daprd, ceiling, noDatabase, ...(revalidated ? [revalidated] : []), bySlug, bareOne, daprdOne],
      notes: [
        `bare hello / ceiling: ${(bare.requestsPerSecond / ceiling.requestsPerSecond).toFixed(1)}×; hello via daprd / ceiling: ${(daprd.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}×`,
        `CPU per ceiling request: ${cpuLine(ceiling)}`,
        `CPU per no-database request: ${cpuLine(noDatabase)}`,
        revalidated ? `CPU per revalidated (304) request: ${cpuLine(revalidated)}` : 'openapi.json carries no ETag: no 304 row',
        `CPU per read-by-slug request: ${cpuLine(bySlug)}`,
      ],
      checks,
    };
  },
};

/** The ETag the document is served with, for the 304 row; undefined when the route sets none. */
async function openApiEtag(url: string, headers: Record<string, string>): Promise<string | undefined> {
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  return response.headers.get('etag') ?? undefined;
}

function cpuLine(measurement: Measurement): string {
  const parts = [...measurement.cpuMsPerRequest].sort((a, b) => b[1] - a[1]);
  const total = parts.reduce((sum, [, ms]) => sum + ms, 0);
  return `${parts.map(([label, ms]) => `${label} ${ms.toFixed(2)} ms`).join(', ')} (total ${total.toFixed(2)} ms)`;
}

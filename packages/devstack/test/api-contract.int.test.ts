import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheDir, platformServices, repoRoot, stackInfo, tokenFor, type PublicServiceSpec } from '@mercato/devstack';

/**
 * The API contract, fuzzed: schemathesis generates requests from every service's served OpenAPI document and sends
 * them through the ingress with an admin token. Any 5xx, undocumented status, response or header that breaks its
 * schema, valid request refused, unsupported method answered other than 405, or missing token let through fails the
 * run, printing the curl command that reproduces each failure. docs/testing.md explains how to run and read it.
 *
 * Bounded by MERCATO_FUZZ_EXAMPLES cases per operation and phase, a fixed amount of work whatever the machine's speed.
 * MERCATO_FUZZ_SECONDS turns that into a time budget per service instead: schemathesis then keeps fuzzing until it is
 * spent (for deeper runs by hand).
 */
const examples = Number(process.env['MERCATO_FUZZ_EXAMPLES'] ?? 60);
const seconds = process.env['MERCATO_FUZZ_SECONDS'] ? Number(process.env['MERCATO_FUZZ_SECONDS']) : undefined;
const here = path.join(repoRoot, 'packages', 'devstack', 'test', 'api-contract');

function schemathesisBinary(): string {
  const versions = readFileSync(path.join(repoRoot, 'scripts', 'runtime', 'versions.env'), 'utf8');
  const version = /^SCHEMATHESIS_VERSION=(.+)$/m.exec(versions)?.[1]?.trim();
  if (!version) throw new Error('SCHEMATHESIS_VERSION is missing from scripts/runtime/versions.env');
  return path.join(cacheDir(), `schemathesis-${version}`, 'bin', 'schemathesis');
}

interface OpenApi {
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema?: { format?: string } }> }>>;
}

async function getJson<T>(url: string, token: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: (await response.json()) as T };
}

/** Cursors the service itself issued, from each list without path parameters (the fuzzer cannot mint one). */
async function issuedCursors(base: string, document: OpenApi, token: string): Promise<string[]> {
  const cursors: string[] = [];
  for (const [route, operations] of Object.entries(document.paths)) {
    const parameters = operations['get']?.parameters ?? [];
    if (route.includes('{') || !parameters.some((p) => p.in === 'query' && p.schema?.format === 'page-cursor')) continue;
    const page = await getJson<{ nextCursor?: string | null }>(`${base}${route}?limit=1`, token);
    if (page.body.nextCursor) cursors.push(page.body.nextCursor);
  }
  return cursors;
}

/**
 * The part of schemathesis's output a reader needs: each failure with its "Reproduce with: curl …" (the token shows as
 * [Filtered]) and the summary. A tool error's traceback can be huge, so its middle is cut.
 */
function reportOf(output: string): string {
  const start = output.search(/={5,} (FAILURES|ERRORS) ={5,}/);
  const report = start >= 0 ? output.slice(start) : output;
  return report.length <= 30_000 ? report : `${report.slice(0, 15_000)}\n[… ${report.length - 30_000} characters cut …]\n${report.slice(-15_000)}`;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the whole API document', () => {
  it('when read from the ingress, then it holds every service\'s paths under its prefix and names the ingress as server', async () => {
    const { ingressUrl } = stackInfo();
    const response = await fetch(`${ingressUrl}/api/openapi.json`, { signal: AbortSignal.timeout(30_000) });
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApi;
    for (const service of platformServices) {
      expect(Object.keys(document.paths).filter((p) => p.startsWith(`${service.ingress.prefix}`)).length).toBeGreaterThan(0);
    }
    expect(new URL(document.servers![0]!.url).port).toBe(new URL(ingressUrl).port);
  });
});

describe('the API contract, fuzzed through the ingress', () => {
  const workDir = mkdtempSync(path.join(tmpdir(), 'mercato-fuzz-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it.each(platformServices.map((service) => [service.appId, service] as const))(
    'when the %s document is fuzzed, then no request gets a 5xx, an undocumented answer or a refusal the document does not allow',
    async (appId: string, service: PublicServiceSpec) => {
      const token = await tokenFor('admin');
      const { ingressUrl } = stackInfo();
      const served = await getJson<OpenApi>(`${ingressUrl}${service.ingress.prefix}/openapi.json`, token);
      expect(served.status).toBe(200);
      const base = `${ingressUrl}${served.body.servers?.[0]?.url ?? ''}`;
      const documentFile = path.join(workDir, `${appId}.openapi.json`);
      writeFileSync(documentFile, JSON.stringify(served.body));

      const { code, output } = await run(
        schemathesisBinary(),
        [
          '--config-file', path.join(here, 'schemathesis.toml'),
          'run', documentFile,
          '--url', base,
          '--header', `Authorization: Bearer ${token}`,
          '--phases', 'examples,coverage,fuzzing',
          '--max-examples', String(examples),
          ...(seconds ? ['--max-time', String(seconds)] : []),
          // One worker: Python 3.11's parser is not thread-safe, and Hypothesis parses source while generating
          // ("SystemError: AST constructor recursion depth mismatch" with two).
          '--workers', '1',
          '--request-timeout', '20',
          '--generation-database', 'none',
          '--no-color',
        ],
        // Run in the throw-away folder: the tool leaves its own state (.hypothesis, .schemathesis) where it runs.
        workDir,
        {
          ...process.env,
          MERCATO_FUZZ_DIR: here,
          MERCATO_FUZZ_CURSORS: JSON.stringify(await issuedCursors(base, served.body, token)),
        },
      );
      if (code !== 0) {
        throw new Error(`schemathesis found contract failures in ${appId} (exit ${code}):\n${reportOf(output)}`);
      }
      expect(output).toMatch(/passed/i);
    },
    // Hang protection only: a run of the default size takes well under a minute per service.
    ((seconds ?? 0) + 600) * 1000,
  );
});

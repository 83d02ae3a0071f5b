import { api, eventually, tokenFor } from '../src/testing/client';
import { stackInfo } from '../src/testing/stack-info';

const scrape = async (metricsPort: number) => {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
};

/** The histogram's count for one route and status class on one replica (0 when the series is not there yet). */
const countOf = (text: string, route: string, status: string): number => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes(`route="${route}"`) && l.includes(`status="${status}"`) && l.includes('method="GET"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
};

describe('Prometheus metrics', () => {
  it("when categories are listed through the ingress, then every replica's /metrics shows the latency histogram under the route template", async () => {
    const token = await tokenFor('viewer');
    const replicas = stackInfo().replicas['categories']!;
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    // The ingress spreads requests over the replicas' sidecars; keep asking until each replica has served some.
    const counts = await eventually(
      async () => {
        for (let i = 0; i < 4; i++) expect((await api('GET', '/api/categories', { token })).status).toBe(200);
        return Promise.all(replicas.map(async (replica) => countOf((await scrape(replica.metricsPort)).text, '/categories', '2xx')));
      },
      (perReplica) => perReplica.every((count) => count > 0),
    );
    expect(counts.every((count) => count > 0)).toBe(true);

    const { status, contentType, text } = await scrape(replicas[0]!.metricsPort);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain/);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0\.005",service="categories",method="GET",route="\/categories",status="2xx"\} \d+$/m);
    expect(text).toContain('# TYPE cache_requests_total counter');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('when /metrics is asked for through the ingress, then no metrics come back', async () => {
    const token = await tokenFor('viewer');
    for (const path of ['/api/categories/metrics', '/api/metrics', '/metrics']) {
      const response = await api('GET', path, { token });
      expect({ path, refused: [404, 405].includes(response.status) }).toEqual({ path, refused: true });
      expect(JSON.stringify(response.body ?? '')).not.toContain('http_request_duration_seconds');
    }
  });
});

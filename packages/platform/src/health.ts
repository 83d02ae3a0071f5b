import { withTimeout } from './timing';

/** A readiness dependency: resolves when usable, throws (with a reason) when not. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface ReadinessReport {
  status: 'ready' | 'not-ready';
  checks: Record<string, { ok: boolean; error?: string }>;
}


export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs = 2500): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      try {
        await withTimeout(check(), timeoutMs, name);
        return [name, { ok: true }] as const;
      } catch (error) {
        return [name, { ok: false, error: error instanceof Error ? error.message : String(error) }] as const;
      }
    }),
  );
  return {
    status: results.every(([, r]) => r.ok) ? 'ready' : 'not-ready',
    checks: Object.fromEntries(results),
  };
}

/** The sidecar is reachable and its components are initialised (daprd's outbound health endpoint). */
export function sidecarCheck(daprHost: string, daprHttpPort: number): ReadinessCheck {
  return {
    name: 'dapr-sidecar',
    async check() {
      const response = await fetch(`http://${daprHost}:${daprHttpPort}/v1.0/healthz/outbound`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!response.ok) throw new Error(`daprd outbound health answered ${response.status}`);
    },
  };
}

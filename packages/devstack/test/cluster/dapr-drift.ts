import { isDeepStrictEqual } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/paths';
import { fillPlaceholders } from '../../src/render';
import { parseYamlDocuments, type KubeObject } from './tools';

type MetadataItem = { name: string; value?: unknown; secretKeyRef?: { name: string; key?: string } };
type DaprObject = KubeObject & { spec: Record<string, unknown>; scopes?: string[]; auth?: { secretStore?: string } };

/**
 * What each local placeholder (filled by the devstack from its own ports and paths) is in the cluster: Redis from the
 * `redis` Secret, the realm from the `oidc` ConfigMap. NAME_RESOLUTION_DB appears only in the local-only name
 * resolution, which the comparison leaves out.
 */
function clusterForm(placeholder: string, itemName: string, oidc: Record<string, string>): MetadataItem {
  const fromOidc = (key: string): MetadataItem => ({ name: itemName, value: oidc[key] });
  switch (placeholder) {
    case 'REDIS_ADDRESS':
      return { name: itemName, secretKeyRef: { name: 'redis', key: 'host' } };
    case 'OIDC_ISSUER':
      return fromOidc('issuer');
    case 'OIDC_AUDIENCE':
      return fromOidc('audience');
    // Locally the keys come from loopback; in the cluster from wherever the overlay says (the issuer stays public).
    case 'OIDC_JWKS_URL':
      return fromOidc('jwks-url');
    default:
      throw new Error(`no cluster form for \${${placeholder}}: add it to packages/devstack/test/cluster/dapr-drift.ts`);
  }
}

/** Settings only the cluster has, each for a reason: a managed Redis has a password (empty in overlays/dev). */
const clusterOnlyMetadata: Readonly<Record<string, MetadataItem>> = {
  redisPassword: { name: 'redisPassword', secretKeyRef: { name: 'redis', key: 'password' } },
};

const marker = (name: string) => `@@${name}@@`;
const markerName = (value: unknown) => (typeof value === 'string' ? /^@@([A-Z0-9_]+)@@$/.exec(value)?.[1] : undefined);

/** components/*.yaml and dapr/*.yaml as written, each placeholder left as a recognisable marker. */
export function localDaprObjects(): Array<{ file: string; object: DaprObject }> {
  const files = [
    ...readdirSync(path.join(repoRoot, 'components')).map((f) => path.join('components', f)),
    ...readdirSync(path.join(repoRoot, 'dapr')).map((f) => path.join('dapr', f)),
  ].filter((f) => f.endsWith('.yaml'));
  return files.flatMap((file) => {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const names = [...text.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!);
    const filled = fillPlaceholders(text, Object.fromEntries(names.map((n) => [n, marker(n)])), file);
    return parseYamlDocuments<DaprObject>(filled, file).map((object) => ({ file, object }));
  });
}

/**
 * How the cluster's Dapr resources differ from components/ and dapr/ beyond what the cluster must change: placeholders
 * in their cluster form, local-only name resolution left out, cluster-only settings and scopes allowed, and nothing
 * else. Each line names the file and the difference.
 */
export function daprDrift(cluster: readonly KubeObject[]): string[] {
  const oidc = (cluster.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'oidc')?.['data'] ?? {}) as Record<string, string>;
  const problems: string[] = [];
  for (const { file, object: local } of localDaprObjects()) {
    const twin = cluster.find((o) => o.kind === local.kind && o.metadata.name === local.metadata.name) as DaprObject | undefined;
    if (!twin) {
      problems.push(`${file}: no ${local.kind} ${local.metadata.name} in the cluster's resources`);
      continue;
    }
    if (local.kind === 'Component') {
      problems.push(...componentDrift(file, local, twin, oidc));
    } else {
      // Name resolution through a shared SQLite file exists only because local sidecars share one machine.
      const { nameResolution: _localOnly, ...localSpec } = local.spec;
      if (!isDeepStrictEqual(localSpec, twin.spec)) problems.push(`${file}: spec differs from the cluster's ${local.kind} ${local.metadata.name}`);
    }
  }
  return problems;
}

function componentDrift(file: string, local: DaprObject, twin: DaprObject, oidc: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const field of ['type', 'version'] as const) {
    if (local.spec[field] !== twin.spec[field]) problems.push(`${file}: ${field} ${String(local.spec[field])} ≠ ${String(twin.spec[field])}`);
  }
  const expected = ((local.spec['metadata'] ?? []) as MetadataItem[]).map((item) => {
    const placeholder = markerName(item.value);
    return placeholder ? clusterForm(placeholder, item.name, oidc) : item;
  });
  const actual = (twin.spec['metadata'] ?? []) as MetadataItem[];
  for (const item of expected) {
    const found = actual.find((a) => a.name === item.name);
    if (!found || !isDeepStrictEqual(found, item)) problems.push(`${file}: ${item.name} is ${JSON.stringify(found)} in the cluster, expected ${JSON.stringify(item)}`);
  }
  for (const item of actual.filter((a) => !expected.some((e) => e.name === a.name))) {
    if (!isDeepStrictEqual(clusterOnlyMetadata[item.name], item)) problems.push(`${file}: the cluster adds ${item.name}, which components/ does not have`);
  }
  if (local.scopes && !isDeepStrictEqual(local.scopes, twin.scopes)) problems.push(`${file}: scopes ${local.scopes.join(',')} ≠ ${twin.scopes?.join(',')}`);
  return problems;
}

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The clone this code runs from: dist/ → devstack → packages → root. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export interface RuntimeVersions {
  dapr: string;
  ferretdb: string;
  keycloak: string;
}

/** Pinned versions, from the same file the installer reads, so the two never disagree. */
export function runtimeVersions(): RuntimeVersions {
  const file = path.join(repoRoot, 'scripts', 'runtime', 'versions.env');
  const values = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  return {
    dapr: process.env['MERCATO_DAPR_VERSION'] ?? values['DAPR_VERSION'] ?? '',
    ferretdb: `${values['FERRETDB_VERSION'] ?? ''}-${values['FERRETDB_BUILD'] ?? ''}`,
    keycloak: values['KEYCLOAK_VERSION'] ?? '',
  };
}

export function cacheDir(): string {
  return (
    process.env['MERCATO_CACHE_DIR'] ??
    path.join(process.env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'), 'mercato')
  );
}

export interface RuntimeBinaries {
  daprd: string;
  placement: string;
  scheduler: string;
  ferretdb: string;
  keycloakHome: string;
  redisServer: string;
  nginx: string;
  versions: RuntimeVersions;
}

const firstExisting = (candidates: string[]): string => candidates.find((c) => existsSync(c)) ?? candidates[0]!;

/** Where the installer put each piece; throws with the fix when one is missing. */
export function runtimeBinaries(): RuntimeBinaries {
  const versions = runtimeVersions();
  const cache = cacheDir();
  const daprBin = path.join(cache, `dapr-${versions.dapr}`, 'bin');
  const binaries: RuntimeBinaries = {
    daprd: path.join(daprBin, 'daprd'),
    placement: path.join(daprBin, 'placement'),
    scheduler: path.join(daprBin, 'scheduler'),
    ferretdb: path.join(cache, `ferretdb-${versions.ferretdb}`, 'bin', 'ferretdb'),
    keycloakHome: path.join(cache, `keycloak-${versions.keycloak}`),
    redisServer: firstExisting(['/usr/bin/redis-server', '/usr/local/bin/redis-server']),
    nginx: firstExisting(['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']),
    versions,
  };
  const missing = Object.entries(binaries)
    .filter(([key, file]) => key !== 'versions' && !existsSync(file as string))
    .map(([key, file]) => `${key} (${String(file)})`);
  if (missing.length) {
    throw new Error(`Runtime pieces missing: ${missing.join(', ')}. Run: bash scripts/install-runtime.sh`);
  }
  return binaries;
}

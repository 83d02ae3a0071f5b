import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cacheDir, repoRoot } from '../../src/paths';

/** A rendered Kubernetes object, as kustomize prints it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** A pinned version from scripts/runtime/versions.env, the file the installer reads. */
function pinned(name: string): string {
  const match = new RegExp(`^${name}=(.+)$`, 'm').exec(readFileSync(path.join(repoRoot, 'scripts', 'runtime', 'versions.env'), 'utf8'));
  if (!match) throw new Error(`scripts/runtime/versions.env has no ${name}`);
  return match[1]!.trim();
}

/** A file the runtime installer put into the cache; missing means the installer has not run since it learnt it. */
function installed(...parts: string[]): string {
  const file = path.join(cacheDir(), ...parts);
  if (!existsSync(file)) throw new Error(`${file} is missing. Run: bash scripts/install-runtime.sh`);
  return file;
}

/** The Tiltfile check's build is cached per content of its sources, as scripts/install-runtime.sh names it. */
function tiltfileCheckBinary(): string {
  const source = path.join(repoRoot, 'tilt', 'tiltfile-check');
  const digest = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) digest.update(readFileSync(path.join(source, file)));
  return installed(`tiltfile-check-${digest.digest('hex').slice(0, 12)}`, 'bin', 'tiltfile-check');
}

export const tools = {
  kustomize: () => installed(`kustomize-${pinned('KUSTOMIZE_VERSION')}`, 'bin', 'kustomize'),
  hadolint: () => installed(`hadolint-${pinned('HADOLINT_VERSION')}`, 'bin', 'hadolint'),
  daprCrdDir: () => installed(`dapr-${process.env['MERCATO_DAPR_VERSION'] ?? pinned('DAPR_VERSION')}`, 'crds'),
  gatewayCrdDir: () => installed(`gateway-api-${pinned('GATEWAY_API_VERSION')}`, 'crds'),
  tiltfileCheck: tiltfileCheckBinary,
};

const run = (file: string, args: readonly string[]): string => {
  try {
    return execFileSync(file, args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${path.basename(file)} ${args.join(' ')} failed:\n${failed.stderr || failed.stdout || failed.message}`);
  }
};

export function parseYamlDocuments<T>(text: string, source: string): T[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length) throw new Error(`${source}: ${document.errors.map((e) => e.message).join('; ')}`);
    const value = document.toJS() as T | null;
    return value === null ? [] : [value];
  });
}

export const readYaml = <T>(file: string): T[] => parseYamlDocuments<T>(readFileSync(file, 'utf8'), path.relative(repoRoot, file));

/**
 * An overlay (or the base) rendered as Tilt and the docs render it: the dev overlay reads the realm from scripts/keycloak/,
 * outside its own folder, hence the relaxed load restrictor (the same flag the Tiltfile passes).
 */
export function renderKustomization(dir: string): KubeObject[] {
  const output = run(tools.kustomize(), ['build', '--load-restrictor=LoadRestrictionsNone', path.join(repoRoot, dir)]);
  return parseYamlDocuments<KubeObject>(output, `kustomize build ${dir}`);
}

/** hadolint's findings on one Dockerfile (an empty list when it is clean). */
export function hadolint(dockerfile: string): string[] {
  try {
    execFileSync(tools.hadolint(), ['--no-color', dockerfile], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim().split('\n');
  }
}

/** One Tilt builtin call, as tilt/tiltfile-check records it: its arguments by Tilt's parameter names. */
export interface TiltCall {
  builtin: string;
  args: Record<string, unknown>;
}

/** Runs the Tiltfile in Tilt's own Starlark interpreter with recording stand-ins for Tilt's builtins. */
export function tiltfileCalls(): TiltCall[] {
  const output = run(tools.tiltfileCheck(), [path.join(repoRoot, 'Tiltfile')]);
  return (JSON.parse(output) as { calls: TiltCall[] }).calls;
}

export const dockerfiles = (): string[] =>
  readdirSync(path.join(repoRoot, 'services'))
    .map((name) => path.join('services', name, 'Dockerfile'))
    .filter((file) => existsSync(path.join(repoRoot, file)));

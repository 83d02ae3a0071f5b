// The cluster deployment, checked offline (docs/deploying.md#what-was-validated): every overlay rendered by the pinned
// kustomize and validated against the Kubernetes, Dapr and Gateway API schemas; consistency with what npm start runs
// (services.ts, components/, dapr/, each app's own config schema); hadolint on every Dockerfile; the Tiltfile run in
// Tilt's Starlark interpreter. The tools come from scripts/install-runtime.sh; nothing here needs a cluster or Docker.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/paths';
import { allPlatformServices, internalServices, type PublicServiceSpec, type ServiceSpec } from '../src/services';
import { daprDrift, localDaprObjects } from './cluster/dapr-drift';
import { kubernetesValidator } from './cluster/schemas';
import { dockerfiles, hadolint, readYaml, renderKustomization, tiltfileCalls, type KubeObject, type TiltCall } from './cluster/tools';

type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: Ref; configMapKeyRef?: Ref; fieldRef?: { fieldPath: string } } };
type Ref = { name: string; key: string };
type Probe = { httpGet?: { path: string; port: string | number } };
type Container = {
  name: string; image: string; env?: Env[]; ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe; livenessProbe?: Probe; resources?: { requests?: object; limits?: object };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
};
type PodSpec = { containers: Container[]; volumes?: Array<{ secret?: { secretName: string } }>; securityContext?: { runAsNonRoot?: boolean } };
type Workload = KubeObject & { spec: { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } } };
type DeclaredSecrets = { secrets: Array<{ name: string; keys: Record<string, { example: string }> }> };


const overlays = ['manifests/base', 'manifests/overlays/dev', 'manifests/overlays/prod'] as const;
// The dev overlay reads the audit checkpoint key that the Tiltfile makes once (never committed): make it as Tilt would,
// so the overlay renders on a fresh clone too.
execFileSync('bash', [path.join(repoRoot, 'tilt', 'dev-keys.sh')], { stdio: 'pipe' });
const declared = readYaml<DeclaredSecrets>(path.join(repoRoot, 'manifests', 'secrets.yaml'))[0]!.secrets;
const rendered = new Map(overlays.map((dir) => [dir, renderKustomization(dir)]));
const objectsOf = (dir: (typeof overlays)[number]) => rendered.get(dir)!;
const ofKind = <T extends KubeObject>(objects: readonly KubeObject[], kind: string) => objects.filter((o) => o.kind === kind) as T[];
const daprApps = (objects: readonly KubeObject[]) =>
  ofKind<Workload>(objects, 'Deployment').filter((d) => d.spec.template.metadata.annotations?.['dapr.io/enabled'] === 'true');
const appIdOf = (d: Workload) => d.spec.template.metadata.annotations?.['dapr.io/app-id'];

/** Every Secret (and key) an object names: env, Dapr's token annotations, volumes, components, the Gateway's TLS. */
function secretReferences(object: KubeObject): Array<{ name: string; key?: string; where: string }> {
  const where = `${object.kind} ${object.metadata.name}`;
  const found: Array<{ name: string; key?: string; where: string }> = [];
  const visit = (value: unknown, field: string): void => {
    if (Array.isArray(value)) return value.forEach((v) => visit(v, field));
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    const ref = record['secretKeyRef'] as { name: string; key?: string } | undefined;
    if (ref) found.push({ name: ref.name, key: ref.key ?? '', where });
    const secretVolume = record['secret'] as { secretName?: string } | undefined;
    if (secretVolume?.secretName) found.push({ name: secretVolume.secretName, where });
    if (record['kind'] === 'Secret' && typeof record['name'] === 'string' && field === 'certificateRefs') found.push({ name: record['name'], where });
    for (const [key, child] of Object.entries(record)) visit(child, key);
  };
  visit(object, '');
  if (object.kind === 'Deployment') {
    const annotations = (object as Workload).spec.template.metadata.annotations ?? {};
    for (const name of ['dapr.io/app-token-secret', 'dapr.io/api-token-secret']) {
      if (annotations[name]) found.push({ name: annotations[name], key: 'token', where: `${where} ${name}` });
    }
  }
  return found;
}

/** The value an env entry gets in this overlay: dev's generated Secrets, or the declared examples (prod's are never here). */
function envValues(container: Container, objects: readonly KubeObject[]): Record<string, string> {
  const secretValue = (ref: Ref) => {
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name) as { data?: Record<string, string> } | undefined;
    const data = secret?.data?.[ref.key];
    if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
    return declared.find((s) => s.name === ref.name)?.keys[ref.key]?.example ?? '';
  };
  const configValue = (ref: Ref) =>
    ((objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name)?.['data'] ?? {}) as Record<string, string>)[ref.key] ?? '';
  return Object.fromEntries(
    (container.env ?? []).map((e) => [
      e.name,
      e.value ??
        (e.valueFrom?.secretKeyRef ? secretValue(e.valueFrom.secretKeyRef)
        : e.valueFrom?.configMapKeyRef ? configValue(e.valueFrom.configMapKeyRef)
        : `${e.name.toLowerCase()}-from-the-pod`),
    ]),
  );
}

/** The app's own config schema (services/<app>/src/config.ts, built to dist/ by tsc --build before the tests). */
function configSchemaOf(appId: string): { safeParse(env: unknown): { success: boolean; error?: { message: string }; data?: Record<string, unknown> } } {
  const module = require(path.join(repoRoot, 'services', appId, 'dist', 'config.js')) as Record<string, unknown>;
  const schema = Object.entries(module).find(([name]) => name.endsWith('ConfigSchema'))?.[1];
  if (!schema) throw new Error(`services/${appId}/dist/config.js exports no …ConfigSchema`);
  return schema as ReturnType<typeof configSchemaOf>;
}

describe('manifests', () => {
  const validate = kubernetesValidator();

  describe.each(overlays)('%s', (dir) => {
    it('when rendered with kustomize, then every object is valid against the Kubernetes, Dapr or Gateway API schemas', () => {
      const objects = objectsOf(dir);
      expect(objects.length).toBeGreaterThan(40);
      expect(objects.flatMap(validate)).toEqual([]);
    });
  });

  describe.each(['manifests/overlays/dev', 'manifests/overlays/prod'] as const)('%s, beside what npm start runs', (dir) => {
    const objects = objectsOf(dir);
    const deployments = daprApps(objects);

    it('when a service is in services.ts, then it has an image, a Deployment with its app id, a Service, and a route if public', () => {
      for (const service of allPlatformServices) {
        const deployment = deployments.find((d) => d.metadata.name === service.appId);
        expect({ service: service.appId, deployment: deployment?.metadata.name, appId: deployment && appIdOf(deployment) }).toEqual({
          service: service.appId, deployment: service.appId, appId: service.appId,
        });
        expect(deployment!.spec.template.spec.containers[0]!.image).toBe(`mercato/${service.appId}`);
        expect(existsSync(path.join(repoRoot, 'services', service.appId, 'Dockerfile'))).toBe(true);
        expect(objects.some((o) => o.kind === 'Service' && o.metadata.name === service.appId)).toBe(true);
      }
      const known = new Set(allPlatformServices.map((s) => s.appId));
      expect(deployments.map((d) => d.metadata.name).filter((name) => !known.has(name))).toEqual([]);
    });

    it('when a service is public, then its route maps its prefix to its app path on its own sidecar as the local ingress does', () => {
      const routes = ofKind<KubeObject & { spec: { rules: RouteRule[] } }>(objects, 'HTTPRoute');
      const publicServices = allPlatformServices.filter((s): s is PublicServiceSpec => s.ingress !== undefined);
      for (const service of publicServices) {
        const rewrites = routes.flatMap((r) => r.spec.rules).filter((rule) => rule.backendRefs?.[0]?.name === service.appId).map(rewriteOf);
        const target = `/v1.0/invoke/${service.appId}/method`;
        expect(rewrites).toContainEqual({ prefix: service.ingress.prefix, to: `${target}${service.ingress.appPath}`.replace(/\/$/, '') });
        if (service.ingress.prefix !== '/') expect(rewrites).toContainEqual({ prefix: `${service.ingress.prefix}/admin`, to: `${target}/admin` });
      }
      const routed = routes.flatMap((r) => r.spec.rules.flatMap((rule) => rule.backendRefs ?? []).map((b) => b.name));
      for (const internal of internalServices) expect(routed).not.toContain(internal.appId);
      for (const backend of routed) expect(objects.some((o) => o.kind === 'Service' && o.metadata.name === backend)).toBe(true);
    });

    it('when a sidecar is configured, then its app port, Configuration and probes match the app and the local platform', () => {
      const configurations = ofKind(objects, 'Configuration').map((c) => c.metadata.name);
      const localConfigName = (service: ServiceSpec | undefined) =>
        localDaprObjects().find((l) => l.file === `dapr/${service?.daprConfig ?? 'config'}.yaml`)?.object.metadata.name;
      for (const deployment of deployments) {
        const annotations = deployment.spec.template.metadata.annotations!;
        const container = deployment.spec.template.spec.containers[0]!;
        const env = envValues(container, objects);
        const httpPort = container.ports?.find((p) => p.name === 'http')?.containerPort;
        expect({ app: deployment.metadata.name, appPort: annotations['dapr.io/app-port'], env: env['APP_PORT'] }).toEqual({
          app: deployment.metadata.name, appPort: String(httpPort), env: String(httpPort),
        });
        expect(configurations).toContain(annotations['dapr.io/config']);
        const service = allPlatformServices.find((s) => s.appId === deployment.metadata.name);
        if (service) expect(annotations['dapr.io/config']).toBe(localConfigName(service));
        expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
        expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(container.resources?.requests).toBeDefined();
        expect(container.resources?.limits).toBeDefined();
      }
    });

    it('when an app starts with its Deployment\'s environment, then its own config schema accepts it (database as services.ts says)', () => {
      for (const deployment of deployments) {
        const container = deployment.spec.template.spec.containers[0]!;
        const parsed = configSchemaOf(deployment.metadata.name).safeParse(envValues(container, objects));
        expect({ app: deployment.metadata.name, error: parsed.error?.message }).toEqual({ app: deployment.metadata.name, error: undefined });
        const service = allPlatformServices.find((s) => s.appId === deployment.metadata.name);
        if (service?.database) expect(parsed.data?.['MONGODB_DATABASE']).toBe(service.database);
      }
    });

    it('when a pod runs, then it runs as non-root, without privilege escalation or capabilities', () => {
      for (const deployment of deployments) {
        const pod = deployment.spec.template.spec;
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        for (const container of pod.containers) {
          expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
          // Only the dev overlay relaxes the read-only root, for Tilt's live update.
          expect(container.securityContext?.readOnlyRootFilesystem).toBe(dir !== 'manifests/overlays/dev');
        }
      }
    });

    it('when a component is scoped, then its scopes name apps that run', () => {
      const appIds = new Set(deployments.map(appIdOf));
      for (const component of ofKind<KubeObject & { scopes?: string[] }>(objects, 'Component')) {
        expect({ component: component.metadata.name, scoped: (component.scopes ?? []).length > 0 }).toEqual({ component: component.metadata.name, scoped: true });
        for (const scope of component.scopes ?? []) expect(appIds).toContain(scope);
      }
    });

    it('when anything names a Secret, then manifests/secrets.yaml declares it with that key (and the dev overlay makes it)', () => {
      const missing = objects.flatMap(secretReferences).filter((ref) => {
        const secret = declared.find((s) => s.name === ref.name);
        return !secret || (ref.key && !(ref.key in secret.keys));
      });
      expect(missing).toEqual([]);
      if (dir === 'manifests/overlays/dev') {
        const made = new Set(ofKind(objects, 'Secret').map((s) => s.metadata.name));
        expect(objects.flatMap(secretReferences).filter((ref) => !made.has(ref.name))).toEqual([]);
      }
    });

    it('when a ConfigMap key is read, then the overlay has it', () => {
      for (const deployment of deployments) {
        for (const env of deployment.spec.template.spec.containers[0]!.env ?? []) {
          const ref = env.valueFrom?.configMapKeyRef;
          if (!ref) continue;
          const data = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name)?.['data'] as Record<string, string> | undefined;
          expect({ ref, present: data?.[ref.key] !== undefined }).toEqual({ ref, present: true });
        }
      }
    });
  });

  it('when the cluster\'s Dapr resources are compared with components/ and dapr/, then they differ only where the cluster must', () => {
    expect(daprDrift(objectsOf('manifests/base'))).toEqual([]);
  });

  it('when the prod overlay is rendered, then every service has ≥ 2 replicas, an autoscaler, a disruption budget and a spread', () => {
    const objects = objectsOf('manifests/overlays/prod');
    for (const deployment of daprApps(objects)) {
      const name = deployment.metadata.name;
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === name) as { spec: { minReplicas: number; scaleTargetRef: { name: string } } } | undefined;
      expect({ name, min: hpa?.spec.minReplicas, target: hpa?.spec.scaleTargetRef.name }).toEqual({ name, min: 2, target: name });
      expect(objects.some((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === name)).toBe(true);
      expect((deployment.spec.template.spec as { topologySpreadConstraints?: unknown[] }).topologySpreadConstraints?.length).toBeGreaterThan(0);
    }
    expect(objects.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny')).toBe(true);
  });
});

type RouteRule = {
  matches?: Array<{ path?: { value: string } }>;
  filters?: Array<{ type: string; urlRewrite?: { path?: { replacePrefixMatch?: string } } }>;
  backendRefs?: Array<{ name: string; port?: number }>;
};
const rewriteOf = (rule: RouteRule) => ({
  prefix: rule.matches?.[0]?.path?.value,
  to: rule.filters?.find((f) => f.type === 'URLRewrite')?.urlRewrite?.path?.replacePrefixMatch?.replace(/\/$/, ''),
});

describe('Dockerfiles', () => {
  it.each(dockerfiles())('when hadolint reads %s, then it finds nothing', (dockerfile) => {
    expect(hadolint(dockerfile)).toEqual([]);
  });
});

describe('Tiltfile', () => {
  const calls = tiltfileCalls();
  const named = (builtin: string) => calls.filter((c) => c.builtin === builtin);
  const images = [...named('docker_build'), ...named('docker_build_with_restart')];
  const devObjects = objectsOf('manifests/overlays/dev');
  const exists = (relative: unknown) => typeof relative === 'string' && existsSync(path.join(repoRoot, relative));

  it('when run in Tilt\'s Starlark interpreter, then every file, folder and script it names exists', () => {
    for (const image of images) {
      const args = image.args as { dockerfile: string; context: string; only?: string[]; live_update?: TiltCall[] };
      expect([args.dockerfile, args.context, ...(args.only ?? [])].filter((p) => !exists(p))).toEqual([]);
      const syncs = (args.live_update ?? []).filter((step) => step.builtin === 'sync');
      expect(syncs.length).toBeGreaterThan(0);
      expect(syncs.map((s) => s.args['local_path']).filter((p) => !exists(p))).toEqual([]);
    }
    for (const kustomization of named('kustomize')) expect(exists(kustomization.args['pathToDir'])).toBe(true);
    for (const command of named('local')) {
      const scripts = String(command.args['command']).split(/\s+/).filter((word) => /\.(sh|py)$/.test(word));
      expect(scripts.filter((s) => !exists(s))).toEqual([]);
    }
  });

  it('when it deploys overlays/dev, then every image a pod runs is built, and every service of services.ts has an image and a resource', () => {
    const built = new Set(images.map((i) => i.args['ref']));
    const containerImages = devObjects
      .flatMap((o) => ((o as Workload).spec?.template?.spec?.containers ?? []).map((c) => c.image))
      .filter((image) => image.startsWith('mercato/'));
    expect(containerImages.filter((image) => !built.has(image))).toEqual([]);
    const resources = named('k8s_resource').map((r) => r.args['workload']);
    for (const service of allPlatformServices) {
      expect(built).toContain(`mercato/${service.appId}`);
      expect(resources).toContain(service.appId);
    }
    expect(named('kustomize').map((k) => k.args['pathToDir'])).toEqual(['manifests/overlays/dev']);
  });

  it('when it names workloads, objects and dependencies, then the dev overlay and the Tiltfile have them', () => {
    const workloads = new Set(devObjects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)).map((o) => o.metadata.name));
    const objects = new Set(devObjects.map((o) => `${o.metadata.name}:${o.kind.toLowerCase()}`));
    const resourceNames = new Set([
      ...named('k8s_resource').map((r) => String(r.args['new_name'] ?? r.args['workload'])),
      ...named('local_resource').map((r) => String(r.args['name'])),
    ]);
    for (const resource of named('k8s_resource')) {
      if (resource.args['workload']) expect(workloads).toContain(resource.args['workload']);
      for (const selector of (resource.args['objects'] ?? []) as string[]) expect(objects).toContain(selector);
      for (const dep of (resource.args['resource_deps'] ?? []) as string[]) expect(resourceNames).toContain(dep);
    }
  });
});

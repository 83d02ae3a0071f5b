import { readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readYaml, tools, type KubeObject } from './tools';

interface CustomResourceDefinition {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: Array<{ name: string; schema?: { openAPIV3Schema: JsonSchema } }> };
}
type JsonSchema = { [keyword: string]: unknown };

/**
 * The API server prunes fields a structural schema does not declare (or refuses them, with strict field validation),
 * so a misspelt field would be lost without a word: here every object schema that lists its properties and does not
 * preserve unknown fields refuses others.
 */
function refuseUndeclaredFields(schema: JsonSchema): JsonSchema {
  const copy: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, child]) => [name, refuseUndeclaredFields(child as JsonSchema)]));
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      copy[key] = refuseUndeclaredFields(value as JsonSchema);
    } else {
      copy[key] = value;
    }
  }
  if (copy['properties'] && copy['additionalProperties'] === undefined && !copy['x-kubernetes-preserve-unknown-fields']) {
    copy['additionalProperties'] = false;
  }
  return copy;
}

/** Validators for every kind the CRD files in `dir` define, by `group/version/kind`. */
function crdValidators(ajv: Ajv, dir: string): Map<string, ValidateFunction> {
  const validators = new Map<string, ValidateFunction>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const crd of readYaml<CustomResourceDefinition>(path.join(dir, file))) {
      if (crd.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        if (!version.schema) continue;
        validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(refuseUndeclaredFields(version.schema.openAPIV3Schema)));
      }
    }
  }
  return validators;
}

type KubernetesModel = new (data: unknown) => { validate(): void };

/** kubernetes-models' class for a built-in kind (`apps/v1` + `Deployment`), or undefined for a kind it does not know. */
function kubernetesModel(apiVersion: string, kind: string): KubernetesModel | undefined {
  try {
    // The module path is the object's own apiVersion (kubernetes-models/apps/v1, kubernetes-models/v1, …).
    return (require(`kubernetes-models/${apiVersion}`) as Record<string, KubernetesModel | undefined>)[kind];
  } catch {
    return undefined;
  }
}

/**
 * kustomize wraps a long Secret value's base64 over several lines; the API server's decoder skips line breaks, the
 * schema's `byte` pattern does not, so they are taken out before validating.
 */
function withoutBase64LineBreaks(object: KubeObject): KubeObject {
  const data = object.kind === 'Secret' ? (object['data'] as Record<string, string> | undefined) : undefined;
  if (!data) return object;
  return { ...object, data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value.replace(/\n/g, '')])) };
}

export type Validator = (object: KubeObject) => string[];

/**
 * Built-in kinds against the Kubernetes OpenAPI schemas (kubernetes-models); Dapr's kinds against the CRDs inside the
 * Dapr module the installer downloads; the Gateway API's against its own CRDs. A kind none of them knows is an error.
 */
export function kubernetesValidator(): Validator {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  const crds = new Map([...crdValidators(ajv, tools.daprCrdDir()), ...crdValidators(ajv, tools.gatewayCrdDir())]);
  return (object) => {
    const where = `${object.kind} ${object.metadata?.name}`;
    const custom = crds.get(`${object.apiVersion}/${object.kind}`);
    if (custom) {
      return custom(object) ? [] : (custom.errors ?? []).map((e) => `${where}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    }
    const Model = kubernetesModel(object.apiVersion, object.kind);
    if (!Model) return [`${where}: no schema for ${object.apiVersion} ${object.kind}`];
    try {
      new Model(withoutBase64LineBreaks(object)).validate();
      return [];
    } catch (error) {
      return [`${where}: ${(error as Error).message}`];
    }
  };
}

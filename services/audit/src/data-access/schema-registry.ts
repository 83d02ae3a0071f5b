import { AppError } from '@mercato/platform';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Db } from 'mongodb';
import type { RegisteredSchema, SchemaRegistry } from '../domain/audit-use-cases';

/**
 * JSON Schemas registered per event type (draft 2020-12, checked with Ajv: compiled once per schema, then a validation
 * costs microseconds). Stored in MongoDB; each replica caches the compiled validators for `ttlMs`, so a schema
 * registered on one replica applies on every replica within that time (docs/audit.md#schemas-per-type).
 */
interface SchemaDocument extends Omit<RegisteredSchema, 'type'> {
  _id: string;
}

export const schemasCollection = 'audit_schemas';

export function createSchemaRegistry(db: Db, ttlMs: number): SchemaRegistry {
  const schemas = db.collection<SchemaDocument>(schemasCollection);
  // `allErrors: false`: the first failure is what the problem names; strict mode refuses schemas with unknown keywords.
  const ajv = new Ajv2020({ strict: true, allErrors: false });
  addFormats(ajv);
  const cache = new Map<string, { validate: ValidateFunction | undefined; until: number }>();

  // Ajv keeps what it compiles keyed by the schema object; a schema re-read from the database is a new object, so
  // validators are kept here by the schema's text, and each distinct schema is compiled once.
  const compiled = new Map<string, ValidateFunction>();
  const compile = (schema: Record<string, unknown>): ValidateFunction => {
    const source = JSON.stringify(schema);
    const known = compiled.get(source);
    if (known) return known;
    try {
      const validate = ajv.compile(schema);
      ajv.removeSchema(schema);
      compiled.set(source, validate);
      return validate;
    } catch (error) {
      throw new AppError('unprocessable', {
        code: 'invalid-json-schema',
        detail: 'The body is not a JSON Schema (draft 2020-12) this service can use',
        issues: [{ path: 'body', message: error instanceof Error ? error.message : String(error) }],
      });
    }
  };

  async function validatorFor(type: string): Promise<ValidateFunction | undefined> {
    const cached = cache.get(type);
    if (cached && cached.until > Date.now()) return cached.validate;
    const doc = await schemas.findOne({ _id: type });
    const validate = doc ? compile(doc.schema) : undefined;
    cache.set(type, { validate, until: Date.now() + ttlMs });
    return validate;
  }

  const toRegistered = (doc: SchemaDocument): RegisteredSchema => ({ type: doc._id, schema: doc.schema, registeredAt: doc.registeredAt, registeredBy: doc.registeredBy });

  return {
    async register(type, schema, by) {
      // A schema with its own `$id` would clash in Ajv's shared registry with another type's; the type is its identity.
      const { $id: _ignored, ...withoutId } = schema;
      const validate = compile(withoutId);
      const doc: SchemaDocument = { _id: type, schema: withoutId, registeredAt: new Date().toISOString(), registeredBy: by };
      // Last writer wins: a registration replaces the whole schema, so there is nothing to merge and no lost update.
      const result = await schemas.replaceOne({ _id: type }, doc, { upsert: true });
      cache.set(type, { validate, until: Date.now() + ttlMs });
      return { schema: toRegistered(doc), created: result.upsertedCount > 0 };
    },
    async get(type) {
      const doc = await schemas.findOne({ _id: type });
      return doc ? toRegistered(doc) : undefined;
    },
    async problemOf(type, data) {
      const validate = await validatorFor(type);
      if (!validate || validate(data)) return undefined;
      const [first] = validate.errors ?? [];
      const pointer = first?.instancePath ? first.instancePath.slice(1).split('/').join('.') : '';
      return { path: pointer ? `data.${pointer}` : 'data', message: first?.message ?? 'does not match the registered schema' };
    },
  };
}

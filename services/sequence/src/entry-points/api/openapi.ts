import { openApiDocument, type Operation } from '@mercato/platform';
import { sequenceConfigSchema } from '../../config';
import { nextAnswerSchema, nextQuerySchema, sequencePathSchema, sequenceSchema, sequenceSettingsSchema } from '../../domain/sequence-schema';

/** `next` and reads: the platform's services (client credentials) and administrators. */
export const callers = ['service', 'admin'] as const;

export interface SequenceLimits {
  maxCount: number;
  maxBlockSize: number;
}

/** The API as routes.ts serves it; a unit test fails if the two drift apart, the contract fuzzer if the service does. */
export function sequenceOperations(limits: SequenceLimits): readonly Operation[] {
  return [
    {
      method: 'post', path: '/sequences/{name}/next', summary: 'Hand out the next value (or `count` values) of a sequence', roles: callers,
      params: sequencePathSchema, query: nextQuerySchema(limits.maxCount),
      success: { status: 200, description: '`{name, value}`; with `count`, `{name, values}` (ascending, never handed out before)', schema: nextAnswerSchema },
      // 404: no such sequence; 409: the sequence ran out of exact numbers; 503 (always documented): no block could be
      // reserved (lock store or database down, other replicas busy) — nothing was handed out.
      problems: [404, 409],
    },
    {
      method: 'get', path: '/sequences/{name}', summary: 'Read a sequence: mode, block size and durable high-water mark', roles: callers,
      params: sequencePathSchema,
      success: { status: 200, description: 'The sequence', schema: sequenceSchema }, problems: [404],
    },
    {
      method: 'put', path: '/sequences/{name}', summary: 'Create a sequence or change its settings', roles: ['admin'],
      params: sequencePathSchema, body: sequenceSettingsSchema(limits.maxBlockSize),
      success: {
        status: 200,
        description: 'The sequence as stored (201 with `Location` when it was created)',
        schema: sequenceSchema,
      },
      // 409: `start` below the high-water mark, or a concurrent change.
      problems: [409],
      createsWithLocation: 'The path of the new sequence, as the client called it',
    },
  ];
}

export function sequenceApiDocument(limits: SequenceLimits): Record<string, unknown> {
  return openApiDocument({
    title: 'Mercato sequence',
    version: '0.1.0',
    description:
      'Named sequences of unique, durable numbers (order, invoice, customer numbers). `block` mode serves blocks each replica ' +
      'reserved durably; `strict` mode is gap-free. A value is never handed out twice, across replicas, crashes and restarts.',
    operations: sequenceOperations(limits),
  });
}

/** The service's document with its default settings; the devstack merges it into the whole API's document. */
export const apiDocument = sequenceApiDocument({
  maxCount: sequenceConfigSchema.shape.SEQUENCE_MAX_COUNT.parse(undefined),
  maxBlockSize: sequenceConfigSchema.shape.SEQUENCE_MAX_BLOCK_SIZE.parse(undefined),
});

import { openApiDocument, pageSchema, userActivityStatsSchema, type Operation } from '@mercato/platform';
import { z } from 'zod';
import { corpusRecordSchema, memeSchema, memeSearchHitSchema, memeSearchQuerySchema, newMemeSchema } from '../../domain/meme-schema';

export const readers = ['viewer', 'editor', 'admin', 'auditor', 'premium'] as const;

export const memePathSchema = z.strictObject({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, 'must be a meme id') });
export const aiQuerySchema = z.strictObject({
  base: z.string().trim().min(1).max(100).regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters')
    .meta({ format: 'meme-base', description: 'The base meme, e.g. "Grumpy Cat"; an unknown one is a 400' }),
  count: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(10, 'must be at most 10').default(3),
});
export const importBodySchema = (max: number) =>
  z.array(corpusRecordSchema).min(1, 'must hold at least one line').max(max, `must hold at most ${max} lines`)
    .describe('Lines of demo/memes/memegenerator-loc-sample.jsonl (memeId, baseMemeName, upperText, lowerText; other fields are ignored)');

const generatedSchema = z.object({ id: z.string(), baseName: z.string(), upperText: z.string(), lowerText: z.string(), generated: z.literal(true) });
const searchItemSchema = z.union([memeSearchHitSchema.extend({ generated: z.literal(false) }), generatedSchema]);

/** The API as routes.ts serves it; a unit test fails if the two drift apart, the contract fuzzer if the service does. */
export function memeOperations(importMax: number): readonly Operation[] {
  return [
    {
      method: 'get', path: '/memes', summary: 'Search memes by words (any script, typo-tolerant with fuzzy=true), base meme and place; premium pages carry generated memes',
      roles: readers, query: memeSearchQuerySchema,
      success: { status: 200, description: 'A page of memes, best first (nearest first within the radius with lat/lon)', schema: pageSchema(searchItemSchema) },
      // 429: over the per-minute search quota (Retry-After).
      problems: [429],
    },
    {
      method: 'get', path: '/memes/ai', summary: 'Fresh generated captions for a base meme (premium)', roles: ['premium'], query: aiQuerySchema,
      success: { status: 200, description: 'Generated memes, never copies of a stored caption (400 for an unknown base)', schema: z.object({ items: z.array(generatedSchema) }) },
    },
    {
      method: 'get', path: '/memes/stats/me', summary: 'Your activity as your UserActivity actor counted it: requests, searches and your most searched queries, when last seen', roles: readers,
      success: { status: 200, description: 'Your counts', schema: userActivityStatsSchema },
    },
    {
      method: 'get', path: '/memes/{id}', summary: 'One meme', roles: readers, params: memePathSchema,
      success: { status: 200, description: 'The meme', schema: memeSchema }, problems: [404],
    },
    {
      method: 'post', path: '/memes', summary: 'Create a meme', roles: ['editor', 'admin'], body: newMemeSchema,
      success: { status: 201, description: 'Created', schema: memeSchema, headers: { Location: 'The path of the new meme' } },
    },
    {
      method: 'post', path: '/memes/import', summary: `Import corpus lines (up to ${importMax} a call); lines already stored are skipped`,
      roles: ['admin'], body: importBodySchema(importMax),
      success: { status: 200, description: 'What was new', schema: z.object({ received: z.number().int(), created: z.number().int(), skipped: z.number().int() }) },
    },
  ];
}

export function memeApiDocument(importMax: number): Record<string, unknown> {
  return openApiDocument({
    title: 'Mercato memes',
    version: '0.1.0',
    description:
      'Search over 4,666 real memes (memegenerator.net, Library of Congress web archive): any script, typo-tolerant, by place. ' +
      'Searches count against a per-minute quota on the caller\'s actor; premium callers get more, and generated memes.',
    operations: memeOperations(importMax),
  });
}

export const apiDocument = memeApiDocument(1000);

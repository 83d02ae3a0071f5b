import { z } from 'zod';

export const sequenceModes = ['block', 'strict'] as const;
export type SequenceMode = (typeof sequenceModes)[number];

/** Highest `start` a client may set: far below 2^53, so every value stays an exact JSON number for a long time. */
export const maxStart = 2 ** 50;

/** Lower-case words joined by single hyphens or underscores, e.g. `order-number`; never a dot (openapi.json). */
export const sequenceNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, 'lower-case letters and digits, words joined by single - or _, e.g. "order-number"');

export const sequencePathSchema = z.strictObject({ name: sequenceNameSchema });

export const nextQuerySchema = (maxCount: number) =>
  z.strictObject({
    count: z.coerce
      .number()
      .int()
      .min(1)
      .max(maxCount, `must be at most ${maxCount}`)
      .optional()
      .meta({ description: `How many values to hand out, 1 to ${maxCount}; the answer then lists them under \`values\`.` }),
  });

export const sequenceSettingsSchema = (maxBlockSize: number) =>
  z.strictObject({
    start: z
      .number()
      .int()
      .min(0)
      .max(maxStart)
      .optional()
      .describe('First value to hand out. On an existing sequence it moves the high-water mark forward; never backwards (409).'),
    blockSize: z.number().int().min(1).max(maxBlockSize).optional().describe('Values a replica reserves at once (block mode)'),
    mode: z.enum(sequenceModes).optional().describe('`block` (default): blocks served from memory; `strict`: gap-free, one durable write per call'),
  });
export type SequenceSettings = z.output<ReturnType<typeof sequenceSettingsSchema>>;

export const sequenceSchema = z.object({
  name: z.string(),
  mode: z.enum(sequenceModes),
  blockSize: z.number().int(),
  highWaterMark: z.number().int().describe('First value no replica has reserved yet: every value handed out so far is below it'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Sequence = z.output<typeof sequenceSchema>;

export const nextValueSchema = z.object({ name: z.string(), value: z.number().int() });
export const nextValuesSchema = z.object({ name: z.string(), values: z.array(z.number().int()) });
export const nextAnswerSchema = z.union([nextValueSchema, nextValuesSchema]);

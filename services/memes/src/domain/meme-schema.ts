import { freeText, pageQueryShape, pageSchema } from '@mercato/platform';
import { z } from 'zod';

/**
 * A meme: a base meme (the picture, e.g. "Grumpy Cat") with the two captions written over it. Imported memes come from
 * the memegenerator.net corpus in demo/memes (their id is the corpus `memeId`); created ones get a UUID.
 */
export const memeSources = ['corpus', 'created'] as const;
export type MemeSource = (typeof memeSources)[number];

/** The Earth's mean radius (IUGG), for great-circle distances on a sphere: within 0.5% of the ellipsoid's. */
export const earthRadiusKm = 6371.0088;

export const locationSchema = z.strictObject({
  lat: z.number().min(-90, 'must be at least -90').max(90, 'must be at most 90').meta({ description: 'Latitude in degrees (WGS 84)' }),
  lon: z.number().min(-180, 'must be at least -180').max(180, 'must be at most 180').meta({ description: 'Longitude in degrees (WGS 84)' }),
});
export type GeoPoint = z.output<typeof locationSchema>;

/** A caption: free text up to 500 characters; absent or null is the empty caption (the corpus writes "-" as null). */
const caption = freeText(500, { blank: true })
  .nullish()
  .transform((text) => text ?? '');

export const newMemeSchema = z.strictObject({
  baseName: freeText(100, { blank: false }).meta({ description: 'The base meme (its picture), e.g. "Grumpy Cat"' }),
  upperText: caption.meta({ description: 'Caption at the top; null or absent for none' }),
  lowerText: caption.meta({ description: 'Caption at the bottom; null or absent for none' }),
  location: locationSchema.optional().meta({ description: 'Where the meme was made, for geo search' }),
});
export type NewMeme = z.output<typeof newMemeSchema>;

export const memeSchema = z.object({
  id: z.string().describe('The corpus memeId for imported memes, a UUID for created ones'),
  baseName: z.string(),
  upperText: z.string(),
  lowerText: z.string(),
  location: locationSchema.optional(),
  source: z.enum(memeSources),
  createdAt: z.iso.datetime(),
});
export type Meme = z.output<typeof memeSchema>;

/** A search result: the meme, and with `lat`/`lon` in the query its distance from that point (memes with a location). */
export const memeSearchHitSchema = memeSchema.extend({
  distanceKm: z.number().min(0).optional().describe('Great-circle distance from lat/lon, in km; only in a geo search'),
});
export type MemeSearchHit = z.output<typeof memeSearchHitSchema>;
export const memeSearchPageSchema = pageSchema(memeSearchHitSchema);

export const memeSearchLimits = { defaultLimit: 20, maxLimit: 100 };
export const defaultRadiusKm = 50;
/** Half the Earth's circumference: a radius that takes in every point. */
export const maxRadiusKm = 20_000;

/**
 * A decimal number from a query string. Not `z.coerce.number()`: it reads `lat=` as 0 and `lat=0x10` as 16, a place
 * the client never named.
 */
const decimal = (range: z.ZodNumber) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/, 'must be a decimal number')
    .transform(Number)
    .pipe(range);

/**
 * `GET /memes`. Every parameter is optional; without `query` the memes are listed (newest first), narrowed by `base`
 * and ordered by distance with `lat`/`lon`. Ranking, geo and paging rules: services/memes/src/data-access/meme-search-index.ts.
 */
export const memeSearchQuerySchema = z
  .strictObject({
    query: freeText(200, { blank: false, inUrl: true })
      .refine((text) => text === '' || /[\p{L}\p{N}]/u.test(text), 'must contain a letter or a digit') // '' is "blank" already
      .optional()
      .meta({ description: 'Words to find in the captions and base name, any script, accents and case ignored; every word must match, as typed or as the start of a word; it must hold at least one letter or digit' }),
    fuzzy: z.enum(['true', 'false']).optional().meta({ description: 'With `true`, words with typos match too (1 edit for 3–5 letters, 2 from 6), ranked after exact and prefix matches' }),
    base: freeText(100, { blank: false, inUrl: true })
      .optional()
      // The format tells tools (the API fuzzer) that only the corpus's base memes are valid here.
      .meta({ format: 'meme-base', description: 'Only memes of this base meme; case, accents, spacing and punctuation ignored ("grumpy cat" is "Grumpy Cat"). An unknown base is a 400.' }),
    lat: decimal(z.number().min(-90, 'must be at least -90').max(90, 'must be at most 90')).optional()
      .meta({ description: 'Latitude of the point to rank by distance (with `lon`)' }),
    lon: decimal(z.number().min(-180, 'must be at least -180').max(180, 'must be at most 180')).optional()
      .meta({ description: 'Longitude of the point to rank by distance (with `lat`)' }),
    radiusKm: decimal(z.number().gt(0, 'must be above 0').max(maxRadiusKm, `must be at most ${maxRadiusKm}`)).optional()
      .meta({ description: `With lat/lon: memes within this many km come first, nearest first (default ${defaultRadiusKm})` }),
    ...pageQueryShape(memeSearchLimits),
  })
  .refine((query) => query.lat === undefined || query.lon !== undefined, { message: 'is required with lat', path: ['lon'] })
  .refine((query) => query.lon === undefined || query.lat !== undefined, { message: 'is required with lon', path: ['lat'] })
  .refine((query) => query.radiusKm === undefined || (query.lat !== undefined && query.lon !== undefined), {
    message: 'needs lat and lon',
    path: ['radiusKm'],
  });
export type MemeSearchQuery = z.output<typeof memeSearchQuerySchema>;

/**
 * One line of demo/memes/memegenerator-loc-sample.jsonl (the fields the service keeps; the others are ignored). The
 * corpus writes a missing caption as null; 10 of its 4,666 lines have no base name and no caption at all.
 */
export const corpusRecordSchema = z.object({
  memeId: z.string().regex(/^\d{1,20}$/, 'must be the corpus number'),
  baseMemeName: z.string().nullable(),
  upperText: z.string().nullable(),
  lowerText: z.string().nullable(),
});
export type CorpusRecord = z.output<typeof corpusRecordSchema>;

/**
 * The meme a corpus line stands for, or undefined for a line without a base name (nothing to show or find: those lines
 * have no caption either). `createdAt` is the import's choice; a fixed time keeps a re-import from changing anything.
 */
export function memeFromCorpusRecord(record: CorpusRecord, createdAt: string): Meme | undefined {
  const fields = newMemeSchema.safeParse({
    baseName: record.baseMemeName ?? '',
    upperText: record.upperText,
    lowerText: record.lowerText,
  });
  if (!fields.success) return undefined;
  return { id: record.memeId, ...withoutLocation(fields.data), source: 'corpus', createdAt };
}

const withoutLocation = ({ baseName, upperText, lowerText }: NewMeme) => ({ baseName, upperText, lowerText });

/**
 * Every meme of a corpus file's text (JSON Lines), in file order, skipping the lines `memeFromCorpusRecord` skips.
 * A line that is not a corpus record is an error naming its line number: the corpus ships with the service.
 */
export function memesFromCorpus(jsonLines: string, createdAt: string): Meme[] {
  const memes: Meme[] = [];
  jsonLines.split('\n').forEach((line, at) => {
    if (!line.trim()) return;
    const record = corpusRecordSchema.safeParse(JSON.parse(line));
    if (!record.success) throw new Error(`corpus line ${at + 1}: ${record.error.issues[0]?.message ?? 'not a corpus record'}`);
    const meme = memeFromCorpusRecord(record.data, createdAt);
    if (meme) memes.push(meme);
  });
  return memes;
}

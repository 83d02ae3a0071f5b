import { freeText, pageQueryShape, type PageLimits } from '@mercato/platform';
import { z } from 'zod';
import { eventTypeSchema } from './audit-event-schema';

const instant = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' }).transform((value) => new Date(value).toISOString());
const key = (max: number) => z.string().min(1).max(max).regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters');

export const eventListLimits: PageLimits = { defaultLimit: 50, maxLimit: 200 };

/** An exact type, or a prefix of whole segments ending in `.*`; a pattern, so the OpenAPI document states it too. */
const typeFilter = z
  .string()
  .max(200)
  .regex(
    /^[a-z][a-z0-9-]*(?:(?:\.[a-z][a-z0-9-]*){2,5}|(?:\.[a-z][a-z0-9-]*){0,4}\.\*)$/,
    'must be an event type (catalog.category.created) or a prefix ending in .* (catalog.*)',
  );

export const eventQuerySchema = z.strictObject({
  type: typeFilter.optional().meta({ description: 'An exact type, or a prefix such as `catalog.*`' }),
  source: key(200).optional(),
  subject: key(500).optional(),
  actor: key(200).optional().meta({ description: "The actor's id (a person's `sub`, a service's name)" }),
  from: instant.optional().meta({ description: 'Events that occurred at or after this instant' }),
  to: instant.optional().meta({ description: 'Events that occurred before this instant' }),
  q: freeText(100, { blank: false, inUrl: true }).optional().meta({ description: 'Text in the values of `data` (case-insensitive)' }),
  ...pageQueryShape(eventListLimits),
});

export type EventQueryInput = z.output<typeof eventQuerySchema>;
export type EventQuery = Omit<EventQueryInput, 'cursor' | 'limit' | 'total'>;

/**
 * An id in a path: the ingress refuses an encoded `#`, `%` or `?` in a path (400) before any service sees it, so the
 * document says so; an event whose id holds one is found by the list's filters instead.
 */
export const eventPathSchema = z.strictObject({
  id: z.string().min(1).max(200).regex(/^[^\x00-\x1f\x7f#%?/]+$/, 'must not contain control characters, "#", "%", "?" or "/"'),
});

const position = z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1');

export const verifyQuerySchema = z
  .strictObject({
    chain: z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be a chain name from GET /audit/chains').optional(),
    from: position.optional(),
    to: position.optional(),
  })
  .refine((query) => query.from === undefined || query.to === undefined || query.from <= query.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

export const schemaPathSchema = z.strictObject({ type: eventTypeSchema });

import { freeText, pageQueryShape, pageSchema, type PageLimits } from '@mercato/platform';
import { z } from 'zod';

export const userStatuses = ['active', 'deactivated'] as const;
export type UserStatus = (typeof userStatuses)[number];

/**
 * An e-mail address, normalised: lower-cased whole (providers treat the local part case-insensitively in
 * practice, and two accounts differing only in case are a support case, not a feature).
 */
export const emailSchema = z
  .email('must be an e-mail address')
  .max(254)
  .transform((email) => email.toLowerCase());

const nameSchema = freeText(200, { blank: false });

/** An identity in another system: who issued it (a URL, e.g. an OIDC issuer) and its subject there. */
export const identitySchema = z.strictObject({
  issuer: z.url('must be the issuer as a URL').max(300),
  subject: z.string().min(1).max(300).regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters'),
});
export type Identity = z.output<typeof identitySchema>;

/** A login in the platform's Keycloak, made with the user (docs/users.md#logins). */
const loginSchema = z.strictObject({
  username: z
    .string()
    .min(3)
    .max(60)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and ".", "_", "-", starting with a letter or digit'),
  temporaryPassword: z.string().min(12, 'must be at least 12 characters').max(128),
});

export const newUserSchema = z.strictObject({
  email: emailSchema,
  name: nameSchema,
  login: loginSchema.optional().describe('Also create a login (the person must change the password on first sign-in)'),
});

export const userReplacementSchema = z.strictObject({ email: emailSchema, name: nameSchema });

export const userChangesSchema = z
  .strictObject({ email: emailSchema.optional(), name: nameSchema.optional() })
  .refine((changes) => Object.keys(changes).length > 0, { message: 'send at least one of the fields email, name' })
  .meta({ minProperties: 1 });

export type NewUser = z.output<typeof newUserSchema>;
export type UserChanges = z.output<typeof userChangesSchema>;

export const userPathSchema = z.strictObject({ id: z.uuid('must be a user id (UUID)') });

export const userListLimits: PageLimits = { defaultLimit: 20, maxLimit: 100 };
export const userSorts = ['name', 'email', 'createdAt'] as const;

/**
 * `page` or `cursor`, not both: numbered pages for screens that show "page 3 of 12", the cursor for walking the whole
 * list while it changes (a page number shifts when users are added before it; a cursor does not).
 */
export const userListQuerySchema = z
  .strictObject({
    status: z.enum(userStatuses).optional(),
    email: emailSchema.optional().meta({ description: 'Exact e-mail address (normalised)' }),
    name: freeText(100, { blank: false, inUrl: true }).optional().meta({ description: 'Names starting with this (case-insensitive)' }),
    sort: z.enum(userSorts).default('createdAt'),
    order: z.enum(['asc', 'desc']).default('asc'),
    page: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10_000, 'must be at most 10000')
      .optional()
      .meta({ description: 'A page number (1-based); with it the answer carries `page` and `total`. Not with `cursor`.' }),
    ...pageQueryShape(userListLimits),
  })
  .refine((query) => !(query.page !== undefined && query.cursor), { message: 'send page or cursor, not both', path: ['page'] });

export type UserListQuery = z.output<typeof userListQuerySchema>;

export interface User {
  id: string;
  email: string;
  name: string;
  status: UserStatus;
  customerNumber: number;
  identities: Identity[];
  /** The Keycloak account made for the user, when there is one. */
  login: { username: string; accountId: string } | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const userResponseSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  status: z.enum(userStatuses),
  customerNumber: z.number().int(),
  identities: z.array(z.object({ issuer: z.string(), subject: z.string() })),
  login: z.object({ username: z.string(), accountId: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});

export const userPageSchema = pageSchema(userResponseSchema).extend({
  page: z.number().int().optional().describe('With `page`: the page number served'),
});

import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

export const usersConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('users'),
  MONGODB_DATABASE: z.string().default('users'),
  /** The sequence service's app id and the sequence customer numbers come from. */
  SEQUENCE_APP_ID: z.string().default('sequence'),
  CUSTOMER_SEQUENCE: z.string().default('customers'),
  /** The realm whose tokens callers carry: its issuer names their identity, and its admin API holds their logins. */
  OIDC_ISSUER: z.url(),
});

export type UsersConfig = z.output<typeof usersConfigSchema>;

import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

/** The actor host keeps no database of its own: its state is in the actor state store (components/actorstate.yaml). */
export const activityConfigSchema = baseConfigSchema
  .omit({ MONGODB_URI: true, MONGODB_DATABASE: true, MONGODB_SERVER_SELECTION_TIMEOUT_MS: true })
  .extend({
    SERVICE_NAME: z.string().default('activity'),
    /** How often each active user's reminder rolls minute counters up into daily totals (short in throw-away platforms). */
    ACTIVITY_ROLLUP_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /** Daily totals kept per user. */
    ACTIVITY_KEEP_DAYS: z.coerce.number().int().min(1).max(366).default(31),
    /** An actor without calls this long leaves memory (daprd's actorIdleTimeout); its state stays in the store. */
    ACTIVITY_IDLE_TIMEOUT: z.string().regex(/^\d+[smh]$/).default('15m'),
  });

export type ActivityConfig = z.output<typeof activityConfigSchema>;

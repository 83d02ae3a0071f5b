import { openApiDocument, quotaAnswerSchema, userActivityStatsSchema, type Operation } from '@mercato/platform';
import { z } from 'zod';
import { consumeInput, reportInput } from '../../domain/activity-schema';

/**
 * The `UserActivity` actor as other services call it: through their OWN sidecar's actor API (Dapr finds the replica
 * that holds the user's actor), never through the ingress, and with no bearer token. The platform's client
 * (packages/platform/src/user-activity.ts) is what the services use; this is its contract, for other callers.
 */
const userPath = z.strictObject({ userId: z.string().min(1).max(200).describe("The person's `sub` in the platform's realm") });
const reported = z.object({ ok: z.literal(true) });

export const activityOperations: readonly Operation[] = [
  {
    method: 'post', path: '/actors/UserActivity/{userId}/method/report', roles: [],
    summary: "Add requests a service served to the user's current minute, and searches with their texts (activity counting: coalesced, off the request path)",
    params: userPath, body: reportInput,
    success: { status: 200, description: 'Counted (once per reportId)', schema: reported },
  },
  {
    method: 'post', path: '/actors/UserActivity/{userId}/method/consume', roles: [],
    summary: 'Take one request from the per-minute quota for a service (quota counting: exact, on the request path)',
    params: userPath, body: consumeInput,
    success: { status: 200, description: 'Whether the request is allowed, and when the quota is full again', schema: quotaAnswerSchema },
  },
  {
    method: 'post', path: '/actors/UserActivity/{userId}/method/stats', roles: [],
    summary: "The user's counts: this minute, per day (the minutes not rolled up yet included), when last seen, searches and top queries",
    params: userPath,
    success: { status: 200, description: 'The counts', schema: userActivityStatsSchema },
  },
];

export const apiDocument = openApiDocument({
  title: 'Mercato activity (internal)',
  version: '0.1.0',
  description:
    'The UserActivity actor, one per person: request counts per service and minute, daily totals rolled up by a ' +
    "reminder, searches and the person's most searched texts (bounded), and a per-minute quota. Reached only through Dapr's actor API on the caller's own sidecar " +
    '(docs/actors.md); the ingress has no route to it.',
  operations: activityOperations,
  servers: [{ url: 'http://127.0.0.1:3500/v1.0', description: "The caller's own Dapr sidecar (its HTTP port)" }],
});

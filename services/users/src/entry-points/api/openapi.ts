import { openApiDocument, userActivityStatsSchema, type Operation } from '@mercato/platform';
import {
  identitySchema,
  newUserSchema,
  userChangesSchema,
  userListQuerySchema,
  userPageSchema,
  userPathSchema,
  userReplacementSchema,
  userResponseSchema,
} from '../../domain/user-schema';

/** Everyone signed in has a profile of their own; `admin` manages everyone's. */
export const people = ['viewer', 'editor', 'admin', 'auditor', 'premium'] as const;

/** The API as routes.ts serves it; a unit test fails if the two drift apart, the contract fuzzer if the service does. */
export const userOperations: readonly Operation[] = [
  {
    method: 'get', path: '/users/me', summary: 'Your own profile; made from your token on the first call and linked to it', roles: people,
    success: { status: 200, description: 'Your profile', schema: userResponseSchema },
    // 409: the token's e-mail address belongs to a profile it may not claim (not verified); 422: a token without one.
    problems: [409, 422], conditional: 'read',
  },
  {
    method: 'get', path: '/users/me/stats', summary: 'Your activity: requests per service this minute, today and per day, and when last seen',
    roles: people, success: { status: 200, description: 'Counted by your UserActivity actor', schema: userActivityStatsSchema },
  },
  {
    method: 'get', path: '/users/{id}/stats', summary: "A user's activity", roles: ['admin'], params: userPathSchema,
    success: { status: 200, description: "Counted by the user's UserActivity actor", schema: userActivityStatsSchema }, problems: [404],
  },
  {
    method: 'get', path: '/users', summary: 'Users, by page number (`page`, with `total`) or by cursor; filtered and sorted', roles: ['admin'],
    query: userListQuerySchema,
    success: { status: 200, description: 'A page of users', schema: userPageSchema },
  },
  {
    method: 'post', path: '/users', summary: 'Create a user, optionally with a login in the platform\'s Keycloak', roles: ['admin'], body: newUserSchema,
    success: { status: 201, description: 'Created', schema: userResponseSchema, headers: { Location: 'The path of the new user', ETag: 'The version of the user' } },
    // 404: the customers sequence does not exist; 409: the e-mail address or the login is taken; 422: Keycloak refused the login.
    problems: [404, 409, 422],
  },
  {
    method: 'get', path: '/users/{id}', summary: 'One user (your own, or anyone\'s as admin)', roles: people, params: userPathSchema,
    success: { status: 200, description: 'The user', schema: userResponseSchema }, problems: [404], conditional: 'read',
  },
  {
    method: 'put', path: '/users/{id}', summary: 'Replace the e-mail address and name', roles: people, params: userPathSchema, body: userReplacementSchema,
    success: { status: 200, description: 'The user as stored', schema: userResponseSchema }, problems: [404, 409], conditional: 'write',
  },
  {
    method: 'patch', path: '/users/{id}', summary: 'Change the e-mail address or the name', roles: people, params: userPathSchema, body: userChangesSchema,
    success: { status: 200, description: 'The user as stored', schema: userResponseSchema }, problems: [404, 409], conditional: 'write',
  },
  {
    method: 'delete', path: '/users/{id}', summary: 'Erase a user: the profile, its identities and its login', roles: ['admin'], params: userPathSchema,
    success: { status: 204, description: 'Erased' }, problems: [404], conditional: 'write',
  },
  {
    method: 'post', path: '/users/{id}/identities', summary: 'Link the user with an identity or record in another system', roles: ['admin', 'service'],
    params: userPathSchema, body: identitySchema,
    success: { status: 200, description: 'The user with the identity', schema: userResponseSchema }, problems: [404, 409],
  },
  {
    method: 'post', path: '/users/{id}/deactivate', summary: 'Deactivate: the login is disabled and its sessions end', roles: ['admin'], params: userPathSchema,
    success: { status: 200, description: 'The user', schema: userResponseSchema }, problems: [404, 409],
  },
  {
    method: 'post', path: '/users/{id}/reactivate', summary: 'Reactivate: the login works again', roles: ['admin'], params: userPathSchema,
    success: { status: 200, description: 'The user', schema: userResponseSchema }, problems: [404, 409],
  },
];

export const apiDocument = openApiDocument({
  title: 'Mercato users',
  version: '0.1.0',
  description:
    'Customer accounts linked to real identities: profiles, customer numbers from the sequence service, logins in the ' +
    "platform's Keycloak, and customer.account.* events that the audit log records.",
  operations: userOperations,
});

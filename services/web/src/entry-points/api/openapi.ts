import { csrfFieldName, sessionCookieName } from '../cookies';

/**
 * The web front end's HTTP surface as an OpenAPI 3.1 document, served at `/openapi.json`. Unlike the services' documents
 * (the platform's `openApiDocument`, JSON in and out, bearer tokens), this one describes pages: HTML answers, form
 * posts (`application/x-www-form-urlencoded` with the CSRF field) answered by a 303 to the next page or the form again
 * with the API's messages, and a session cookie instead of a token. Its test keeps it equal to the routers.
 */
type Access = 'public' | 'signed-in' | 'editor' | 'auditor' | 'admin';

export interface WebOperation {
  method: 'get' | 'post';
  path: string;
  summary: string;
  access: Access;
  /** What a success is: a page, a 303 to the next one, or a 302 to Keycloak. */
  answer: 'page' | 'see-other' | 'to-keycloak';
  /** Query parameters (all optional text) or form fields (`required` ones first), by name → meaning. */
  query?: Record<string, string>;
  form?: { required?: Record<string, string>; optional?: Record<string, string> };
  /** Statuses besides the ones the access and answer imply, each rendered as a page. */
  pages?: readonly number[];
  /** Served by express-openid-connect itself (its callback), not by one of this app's routers. */
  library?: boolean;
}

const withPaging = { cursor: 'The next page (opaque, from the page before)' };

export const webOperations: readonly WebOperation[] = [
  { method: 'get', path: '/', summary: 'Catalog: search with filters and facet counts, the category tree (the welcome page before sign-in)', access: 'public', answer: 'page',
    query: { q: 'Words to find', category: 'A category id', subtree: '`true`: below the category too', price_min: 'Lowest price in major units, e.g. 12.50', price_max: 'Highest price in major units', in_stock: '`true`: only in stock', sort: 'relevance, price, name or newest', order: 'asc or desc', tags: 'Comma-separated tags', 'attr.<name>': 'An attribute value (any attribute name)', ...withPaging } },
  { method: 'get', path: '/products/new', summary: 'The form for a new product', access: 'editor', answer: 'page' },
  { method: 'post', path: '/products', summary: 'Create a product; on success a 303 to its page', access: 'editor', answer: 'see-other', pages: [409, 422],
    form: { required: { sku: 'SKU', name: 'Name', price: 'Price in major units', categoryIds: 'Category ids (the field repeated)' }, optional: { description: 'Description', stock: 'Whole number', status: 'draft, active or archived', tags: 'Comma-separated', attributes: 'One `name=value` per line' } } },
  { method: 'get', path: '/products/{id}', summary: 'A product', access: 'signed-in', answer: 'page', pages: [404] },
  { method: 'get', path: '/products/{id}/edit', summary: 'The form to edit a product, opened at its current version', access: 'editor', answer: 'page', pages: [404] },
  { method: 'post', path: '/products/{id}', summary: 'Save a product (PUT with If-Match); a change made meanwhile is a 412 shown on the form', access: 'editor', answer: 'see-other', pages: [404, 409, 412, 422],
    form: { required: { etag: 'The version the form was opened at', sku: 'SKU', name: 'Name', price: 'Price in major units', categoryIds: 'Category ids' }, optional: { description: 'Description', stock: 'Whole number', status: 'draft, active or archived', tags: 'Comma-separated', attributes: 'One `name=value` per line' } } },
  { method: 'get', path: '/categories/new', summary: 'The form for a new category', access: 'editor', answer: 'page' },
  { method: 'post', path: '/categories', summary: 'Create a category; on success a 303 to the catalog', access: 'editor', answer: 'see-other', pages: [409, 422],
    form: { required: { name: 'Name', slug: 'Lower-case letters, digits and hyphens' }, optional: { parentId: 'The parent category (empty: top level)' } } },
  { method: 'get', path: '/categories/{id}/edit', summary: 'The form to edit a category', access: 'editor', answer: 'page', pages: [404] },
  { method: 'post', path: '/categories/{id}', summary: 'Save a category (PATCH with If-Match); on success a 303 to it in the catalog', access: 'editor', answer: 'see-other', pages: [404, 409, 412, 422],
    form: { required: { etag: 'The version the form was opened at', name: 'Name', slug: 'Slug' }, optional: { parentId: 'The parent category (empty: top level)' } } },
  { method: 'get', path: '/audit', summary: 'The audit log, newest first, with filters', access: 'auditor', answer: 'page',
    query: { type: 'Event type', source: 'Producing service', subject: 'Entity id', actor: 'Actor id', q: 'Text', from: 'From (UTC, datetime-local)', to: 'To (UTC, datetime-local)', ...withPaging } },
  { method: 'get', path: '/audit/event', summary: "One event's detail", access: 'auditor', answer: 'page', pages: [404], query: { id: 'The event id' } },
  { method: 'get', path: '/audit/verify', summary: 'Verify every hash chain and show the result', access: 'auditor', answer: 'page' },
  { method: 'get', path: '/me', summary: 'My profile and my stats', access: 'signed-in', answer: 'page' },
  { method: 'get', path: '/users', summary: 'Users with page numbers and filters', access: 'admin', answer: 'page', query: { page: 'Page number, from 1', name: 'Names starting with', email: 'Exact e-mail', status: 'active or deactivated' } },
  { method: 'get', path: '/users/{id}', summary: "A user's profile and stats", access: 'admin', answer: 'page', pages: [404] },
  { method: 'post', path: '/users/{id}/deactivate', summary: 'Deactivate a user (their login too); a 303 back to them', access: 'admin', answer: 'see-other', pages: [404] },
  { method: 'post', path: '/users/{id}/reactivate', summary: 'Reactivate a user; a 303 back to them', access: 'admin', answer: 'see-other', pages: [404] },
  { method: 'get', path: '/memes', summary: 'Meme search by words (typos allowed on request) and place; premium accounts also see AI-generated memes, marked', access: 'signed-in', answer: 'page', pages: [429],
    query: { query: 'Words', fuzzy: '`true`: allow typos', lat: 'Latitude', lon: 'Longitude', radiusKm: 'Radius in km', ...withPaging } },
  { method: 'get', path: '/login', summary: "Sign in: a 302 to Keycloak's login page, back to `returnTo` (a path of this site only) afterwards", access: 'public', answer: 'to-keycloak', query: { returnTo: 'A path of this site' } },
  { method: 'get', path: '/callback', summary: "Keycloak's answer to a sign-in (authorization code + PKCE); a redirect to `returnTo`", access: 'public', answer: 'see-other', library: true, pages: [400] },
  { method: 'post', path: '/logout', summary: "Sign out here and at Keycloak: a redirect to Keycloak's end-session page, then to /signed-out", access: 'public', answer: 'to-keycloak', form: {} },
  { method: 'get', path: '/signed-out', summary: 'Where signing out ends', access: 'public', answer: 'page' },
];

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const redirect = (description: string) => ({ description, headers: { Location: { required: true, description: 'Where to go next', schema: { type: 'string' } } } });
const textFields = (fields: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(fields).map(([name, description]) => [name, { type: 'string', description }]));

function responsesOf(op: WebOperation): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  if (op.answer === 'page') responses['200'] = html('The page');
  if (op.answer === 'see-other') responses[op.library ? '302' : '303'] = redirect('Done: the next page');
  if (op.answer === 'to-keycloak') responses['302'] = redirect("Keycloak's page");
  // Anyone not signed in is sent to sign in first, and comes back afterwards.
  if (op.access !== 'public') responses['303'] ??= redirect('Not signed in: to /login with this page as returnTo');
  const statuses = new Set([...(op.form ? [400, 403] : []), ...(op.access === 'public' || op.access === 'signed-in' ? [] : [403]), ...(op.pages ?? []), 503]);
  const meaning: Record<number, string> = {
    400: op.form ? 'The form again, with what was wrong beside each field (or the 403 page for a missing CSRF token)' : 'The request could not be read',
    403: op.form ? 'The CSRF token is missing or wrong, or the account lacks the role: nothing changed' : 'The account lacks the role',
    404: 'No such page or entity',
    409: 'The form again: it conflicts with what exists',
    412: 'The form again: someone changed this since the form was opened',
    422: 'The form again: the service cannot accept it (an unknown category, say)',
    429: 'The search page with the quota message; retry after Retry-After seconds',
    503: 'A service this page needs is not answering; retry after Retry-After seconds',
  };
  for (const status of [...statuses].sort((a, b) => a - b)) responses[String(status)] = html(meaning[status] ?? 'Problem');
  return responses;
}

function operationOf(op: WebOperation): Record<string, unknown> {
  const pathParameters = [...op.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } }));
  const queryParameters = Object.entries(op.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } }));
  const body = op.form && {
    required: true,
    content: {
      'application/x-www-form-urlencoded': {
        schema: {
          type: 'object',
          properties: { [csrfFieldName]: { type: 'string', description: 'The CSRF token the form carries (double submit with its cookie)' }, ...textFields(op.form.required), ...textFields(op.form.optional) },
          required: [csrfFieldName, ...Object.keys(op.form.required ?? {})],
        },
      },
    },
  };
  const who: Record<Access, string> = {
    public: 'Anyone.',
    'signed-in': 'Anyone signed in.',
    editor: 'Editors and admins.',
    auditor: 'Auditors and admins.',
    admin: 'Admins.',
  };
  return {
    summary: op.summary,
    description: `${who[op.access]} Every service this page calls checks the person's token and roles again.`,
    security: op.access === 'public' ? [] : [{ session: [] }],
    parameters: [...pathParameters, ...queryParameters],
    ...(body ? { requestBody: body } : {}),
    responses: responsesOf(op),
  };
}

const paths: Record<string, Record<string, unknown>> = {};
for (const op of webOperations) (paths[op.path] ??= {})[op.method] = operationOf(op);

/** `apiDocument`, as every service's build exports it (docs/adding-a-service.md); the ingress's `/api/openapi.json` leaves it out. */
export const apiDocument: Record<string, unknown> = {
  openapi: '3.1.0',
  info: {
    title: 'Mercato web front end',
    version: '0.1.0',
    description:
      'The browser front end (docs/web.md): server-rendered pages behind Keycloak sign-in, reached through the ingress at `/`. ' +
      "Pages answer HTML; forms post `application/x-www-form-urlencoded` with a CSRF field. The services' own API is at `/api` (`/api/openapi.json`).",
  },
  servers: [{ url: '/', description: 'The ingress' }],
  paths,
  components: {
    securitySchemes: {
      session: { type: 'apiKey', in: 'cookie', name: sessionCookieName, description: 'The signed session id set at sign-in; the tokens stay on the server' },
    },
  },
};

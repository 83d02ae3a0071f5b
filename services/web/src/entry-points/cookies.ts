/** The session cookie: a signed random id, the tokens behind it stay on the server (data-access/session-store.ts). */
export const sessionCookieName = 'mercato.session';
/** The CSRF cookie of the double submit (csrf-csrf). */
export const csrfCookieName = 'mercato.csrf';
/** The hidden field every state-changing form carries, compared with the CSRF cookie. */
export const csrfFieldName = '_csrf';

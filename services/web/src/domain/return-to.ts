/**
 * Where to send a person after sign-in: only a path of this site. Anything else (another origin, `//host`, a
 * backslash that browsers read as a slash, control characters, a scheme) falls back to the home page, so the login
 * link can never become an open redirect.
 */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return fallback;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f]/.test(value)) return fallback;
  try {
    const resolved = new URL(value, 'http://site.invalid');
    if (resolved.origin !== 'http://site.invalid') return fallback;
    return resolved.pathname + resolved.search;
  } catch {
    return fallback;
  }
}

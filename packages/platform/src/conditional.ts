import { AppError } from './errors';

/**
 * Conditional requests (RFC 9110 §13) over an entity's `version`, the same on every service: a response carries
 * `ETag: "<version>"`; a write with `If-Match` names the version it was computed from and gets 412 when another write
 * got there first; a read with `If-None-Match` gets 304 when the client's copy is current. The version comparison
 * happens inside the claimed write (revisions.ts), so two writers holding the same ETag can never both win.
 */

/** A strong entity tag for a version. */
export const etagOf = (version: number): string => `"${version}"`;

const strongTag = /^"(\d{1,15})"$/;

const badPrecondition = (header: string, message: string) =>
  new AppError('validation', {
    code: 'invalid-precondition',
    detail: `The ${header} header is not one this service understands`,
    issues: [{ path: `headers.${header.toLowerCase()}`, message }],
  });

/**
 * The version an `If-Match` header requires: undefined when the header is absent or `*` (any current version), else
 * the version its single strong tag names. A list or a weak tag is a 400: a write must name exactly one version.
 */
export function requiredVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined) return undefined;
  const value = ifMatch.trim();
  if (value === '*') return undefined;
  const match = strongTag.exec(value);
  if (!match) throw badPrecondition('If-Match', 'must be one ETag returned by this service, e.g. "3", or *');
  return Number(match[1]);
}

/** True when an `If-None-Match` header names the current version (or `*`): the client's copy is current. */
export function isNotModified(ifNoneMatch: string | undefined, version: number): boolean {
  if (ifNoneMatch === undefined) return false;
  const current = etagOf(version);
  return ifNoneMatch.split(',').some((tag) => {
    const value = tag.trim();
    // Weak comparison, as RFC 9110 asks for If-None-Match.
    return value === '*' || value === current || value === `W/${current}`;
  });
}

/** The 412 every service answers when a write's `If-Match` names a version that is no longer current. */
export const staleVersion = (what: string, required: number, current: number) =>
  new AppError('precondition-failed', {
    code: 'stale-version',
    detail: `${what} is at version ${current}; the request was made against version ${required}. Read it again and retry.`,
  });

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

/**
 * The version an `If-Match` header requires: undefined when the header is absent or `*` (any current version), else
 * the version its one strong tag names. Anything else — a list, a weak tag (never equal under the strong comparison
 * If-Match asks for), a tag this service never issued — can match no version, so it is 0 (versions start at 1) and
 * the write answers 412, as RFC 9110 §13.1.1 has a failed If-Match answer, rather than 400.
 */
export function requiredVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined) return undefined;
  const value = ifMatch.trim();
  if (value === '*') return undefined;
  const match = strongTag.exec(value);
  return match ? Number(match[1]) : 0;
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
    detail:
      required === 0
        ? `${what} is at version ${current}; If-Match names no version of it (send the ETag a read returned, e.g. "${current}")`
        : `${what} is at version ${current}; the request was made against version ${required}. Read it again and retry.`,
  });

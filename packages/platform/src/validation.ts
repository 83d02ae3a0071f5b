import { z } from 'zod';
import { AppError, type FieldIssue } from './errors';

/** Where an input came from; it prefixes issue paths so a client knows which part of its request to fix. */
export type InputPart = 'body' | 'query' | 'params' | 'headers' | 'event';

const valueAt = (input: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), input);

const joinPath = (part: InputPart, path: readonly PropertyKey[]) => [part, ...path.map(String)].join('.');

/**
 * Turns zod's issues into field issues a client can act on. zod words a missing field as a type mismatch ("expected
 * string, received undefined", or a field's own custom message), so a field that is absent is reported as "required";
 * each unknown field is named on its own path.
 */
export function issuesOf(error: z.ZodError, part: InputPart, parsed?: { input: unknown }): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: joinPath(part, [...issue.path, key]), message: 'is not a field of this request' }));
    }
    const missing = issue.code === 'invalid_type' && parsed !== undefined && valueAt(parsed.input, issue.path) === undefined;
    return [{ path: joinPath(part, issue.path), message: missing ? 'required' : issue.message }];
  });
}

/** Parses untrusted input at the edge; the domain only ever sees the parsed type. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, part: InputPart): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AppError('validation', { detail: `Invalid ${part}`, issues: issuesOf(result.error, part, { input }) });
  }
  return result.data;
}

/**
 * Text that travels in a URL (path or query) must not hold C0 control characters or DEL: the sidecar refuses such a
 * URL even percent-encoded, so the ingress answers 400 before the app runs. Query and path schemas use this pattern,
 * so their documents say so too.
 */
export const noControlCharacters = /^[^\x00-\x1f\x7f]*$/;

/**
 * Free text: surrounding spaces are dropped, and the length counts characters (code points), as JSON Schema's
 * `maxLength` does, not UTF-16 units. The non-blank rule names U+FEFF besides `\s` because JavaScript counts it as a
 * space and other regex dialects (the fuzzer's, Python's) do not; so the document's pattern and the route agree.
 * `inUrl`: text that travels in a path or query, so no control characters (see `noControlCharacters`).
 */
export function freeText(max: number, options: { blank: boolean; inUrl?: boolean }) {
  const string = options.inUrl ? z.string().regex(noControlCharacters, 'must not contain control characters') : z.string();
  const base = options.blank ? string : string.regex(/[^\s\uFEFF]/, 'must not be blank');
  return base
    .trim()
    .refine((value) => [...value].length <= max, `must be at most ${max} characters`)
    .meta({ maxLength: max });
}

/** Text to match literally inside a regular expression (a MongoDB `$regex`, say). */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

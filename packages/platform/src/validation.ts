import { z } from 'zod';
import { AppError, type FieldIssue } from './errors';

/** Where an input came from; it prefixes issue paths so a client knows which part of its request to fix. */
export type InputPart = 'body' | 'query' | 'params' | 'headers' | 'event';

export function issuesOf(error: z.ZodError, part: InputPart): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** Parses untrusted input at the edge; the domain only ever sees the parsed type. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, part: InputPart): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AppError('validation', { detail: `Invalid ${part}`, issues: issuesOf(result.error, part) });
  }
  return result.data;
}

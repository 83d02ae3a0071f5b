/**
 * One error type for the whole platform. Every failure that reaches a client is an AppError rendered as RFC 9457
 * problem+json; anything else is a bug and becomes a 500 with no internals leaked.
 */
export type ProblemKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'precondition-failed'
  | 'unprocessable'
  | 'too-many-requests'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'dependency-unavailable'
  | 'internal';

const statusOf: Record<ProblemKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'precondition-failed': 412,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  unprocessable: 422,
  'too-many-requests': 429,
  'dependency-unavailable': 503,
  internal: 500,
};

const kindByStatus = new Map(Object.entries(statusOf).map(([kind, status]) => [status, kind as ProblemKind]));

/** The kind a status stands for (e.g. another service's problem), or undefined for a status no kind uses. */
export const kindOfStatus = (status: number): ProblemKind | undefined => kindByStatus.get(status);

const titleOf: Record<ProblemKind, string> = {
  validation: 'The request is not valid',
  unauthenticated: 'Authentication is required',
  forbidden: 'You may not do this',
  'not-found': 'Not found',
  'method-not-allowed': 'The method is not allowed on this path',
  conflict: 'Conflicts with the current state',
  'precondition-failed': 'The resource changed since you read it',
  'payload-too-large': 'The request body is too large',
  'unsupported-media-type': 'Unsupported media type',
  unprocessable: 'The request cannot be processed',
  'too-many-requests': 'Too many requests; try again after Retry-After',
  'dependency-unavailable': 'A dependency is unavailable; try again shortly',
  internal: 'Internal error',
};

/** Stable problem type URIs: clients may branch on them, so never rename one. */
export const problemTypeBase = 'https://mercato.dev/problems/';

export interface FieldIssue {
  /** JSON-pointer-like path of the offending input, e.g. `body.slug` or `query.limit`. */
  path: string;
  message: string;
}

export interface AppErrorOptions {
  detail?: string;
  /** A more specific stable type than the kind, e.g. `duplicate-slug`. */
  code?: string;
  issues?: FieldIssue[];
  cause?: unknown;
  /** True when the process can no longer be trusted (bad config, lost invariants): log and shut down. */
  isCatastrophic?: boolean;
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly detail: string | undefined;
  readonly code: string;
  readonly issues: FieldIssue[] | undefined;
  readonly isCatastrophic: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: ProblemKind, options: AppErrorOptions = {}) {
    super(options.detail ?? titleOf[kind], { cause: options.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.status = statusOf[kind];
    this.detail = options.detail;
    this.code = options.code ?? kind;
    this.issues = options.issues;
    this.isCatastrophic = options.isCatastrophic ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  traceId?: string;
  errors?: FieldIssue[];
}

export function toProblem(error: AppError, instance?: string, traceId?: string): ProblemDocument {
  const problem: ProblemDocument = {
    type: problemTypeBase + error.code,
    title: titleOf[error.kind],
    status: error.status,
  };
  if (error.detail) problem.detail = error.detail;
  if (instance) problem.instance = instance;
  if (traceId) problem.traceId = traceId;
  if (error.issues?.length) problem.errors = error.issues;
  return problem;
}

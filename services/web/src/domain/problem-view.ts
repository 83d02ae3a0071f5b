import { AppError, type FieldIssue } from '@mercato/platform';

/** An error as a page shows it: a status, a heading, what happened, and field messages for the form beside them. */
export interface ProblemView {
  status: number;
  title: string;
  detail: string;
  /** By form field name (`name`, `price.amount`, …): the API's `body.<field>` paths without the `body.` part. */
  fieldErrors: Record<string, string>;
  /** Issues that name no field of the form (the whole body, a query parameter). */
  otherErrors: string[];
  retryAfterSeconds: number | undefined;
}

const titles: Record<number, string> = {
  400: 'Please check what you entered',
  401: 'Please sign in',
  403: 'You may not do this',
  404: 'Not found',
  409: 'That conflicts with something that exists',
  412: 'Someone changed this while you were editing',
  422: 'That cannot be saved',
  429: 'Too many requests',
  503: 'Service unavailable',
};

export function problemViewOf(error: unknown): ProblemView {
  if (!(error instanceof AppError)) {
    return { status: 500, title: 'Something went wrong', detail: 'The page could not be shown. Please try again.', fieldErrors: {}, otherErrors: [], retryAfterSeconds: undefined };
  }
  const fieldErrors: Record<string, string> = {};
  const otherErrors: string[] = [];
  for (const issue of error.issues ?? []) addIssue(issue, fieldErrors, otherErrors);
  return {
    status: error.status,
    title: titles[error.status] ?? (error.status >= 500 ? 'Something went wrong' : 'The request could not be completed'),
    detail: error.detail ?? error.message,
    fieldErrors,
    otherErrors,
    retryAfterSeconds: error.retryAfterSeconds,
  };
}

function addIssue(issue: FieldIssue, fields: Record<string, string>, others: string[]): void {
  const field = /^body\.(.+)$/.exec(issue.path)?.[1];
  if (field) fields[field] = fields[field] ? `${fields[field]}; ${issue.message}` : issue.message;
  else others.push(`${issue.path}: ${issue.message}`);
}

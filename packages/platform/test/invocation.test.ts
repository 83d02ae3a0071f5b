import { AppError, problemTypeBase } from '../src/errors';
import { problemToError } from '../src/invocation';

describe('errors of a service called through invocation', () => {
  it("when the callee answers a problem, then it becomes an AppError of the same status, type, detail and Retry-After", () => {
    const problem = { type: `${problemTypeBase}lock-unavailable`, title: 'x', status: 503, detail: 'lock store down' };
    const error = problemToError('sequence', 503, 'application/problem+json', JSON.stringify(problem), '2');
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 503, code: 'lock-unavailable', detail: 'lock store down', retryAfterSeconds: 2 });
  });

  it('when the callee refuses input, then the field issues come along', () => {
    const problem = { type: `${problemTypeBase}validation`, status: 400, errors: [{ path: 'query.count', message: 'too big' }] };
    const error = problemToError('sequence', 400, 'application/problem+json; charset=utf-8', JSON.stringify(problem), null);
    expect(error).toMatchObject({ status: 400, code: 'validation', issues: [{ path: 'query.count', message: 'too big' }] });
  });

  it("when daprd answers for a callee that is down, then it is a 503 that names no internals", () => {
    const error = problemToError('sequence', 500, 'application/json', '{"errorCode":"ERR_DIRECT_INVOKE","message":"dial tcp 127.0.0.1:4000"}', null);
    expect(error).toMatchObject({ status: 503, code: 'service-unavailable', retryAfterSeconds: 2 });
    expect(error.detail).not.toContain('127.0.0.1');
  });

  it("when the callee's sidecar refuses the token, then it is a 401", () => {
    expect(problemToError('sequence', 401, 'text/plain', 'Unauthorized', null)).toMatchObject({ status: 401 });
  });
});

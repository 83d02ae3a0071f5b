import { AppError, toProblem } from '../src/errors';
import { loadConfig, baseConfigSchema } from '../src/config';
import { traceIdOf } from '../src/request-context';

describe('problem documents', () => {
  it('when a conflict has a specific code, then the type is stable and the status matches the kind', () => {
    const problem = toProblem(new AppError('conflict', { code: 'duplicate-slug', detail: 'taken' }), '/categories', 'abc');
    expect(problem).toEqual({
      type: 'https://mercato.dev/problems/duplicate-slug',
      title: 'Conflicts with the current state',
      status: 409,
      detail: 'taken',
      instance: '/categories',
      traceId: 'abc',
    });
  });

  it('when validation fails with issues, then they are listed under errors', () => {
    const problem = toProblem(new AppError('validation', { issues: [{ path: 'body.slug', message: 'bad' }] }));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ path: 'body.slug', message: 'bad' }]);
  });
});

describe('configuration', () => {
  it('when required values are missing or wrong, then loading fails naming each of them', () => {
    expect(() => loadConfig(baseConfigSchema, { APP_PORT: 'eighty', MONGODB_URI: 'postgres://x' })).toThrow(
      /APP_PORT[\s\S]*MONGODB_URI/,
    );
  });

  it('when values are valid, then defaults fill the rest', () => {
    const config = loadConfig(baseConfigSchema, {
      SERVICE_NAME: 's', APP_PORT: '3000', MONGODB_URI: 'mongodb://127.0.0.1:1/', MONGODB_DATABASE: 'd',
      DAPR_HTTP_PORT: '3500', DAPR_API_TOKEN: 'x'.repeat(16), APP_API_TOKEN: 'y'.repeat(16),
    });
    expect(config.APP_HOST).toBe('127.0.0.1');
    expect(config.APP_PORT).toBe(3000);
    expect(config.EVENTS_TOPIC).toBe('events');
  });
});

describe('traceIdOf', () => {
  it('when the traceparent is well formed, then its trace id is returned', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
  it('when it is malformed, then there is no trace id', () => {
    expect(traceIdOf('garbage')).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });
});

import { fillPlaceholders } from '../src/render';

describe('fillPlaceholders', () => {
  it('when every placeholder has a value, then all are filled', () => {
    expect(fillPlaceholders('host: "${REDIS_ADDRESS}"', { REDIS_ADDRESS: '127.0.0.1:6379' }, 'x.yaml')).toBe('host: "127.0.0.1:6379"');
  });
  it('when a placeholder has no value, then rendering fails naming it and the file', () => {
    expect(() => fillPlaceholders('${MISSING}', {}, 'cache.yaml')).toThrow('cache.yaml: no value for ${MISSING}');
  });
});

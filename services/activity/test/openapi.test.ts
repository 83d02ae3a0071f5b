import { userActivityMethods } from '../src/entry-points/actors/user-activity-actor';
import { activityOperations, apiDocument } from '../src/entry-points/api/openapi';

describe('the activity OpenAPI document', () => {
  it('when compared with the actor, then each of its callable methods is documented and nothing else', () => {
    const documented = activityOperations.map((op) => /\/method\/(\w+)$/.exec(op.path)?.[1]);
    expect(documented.sort()).toEqual([...userActivityMethods].sort());
  });

  it('when read, then it names the caller\'s sidecar as its server and asks for no bearer token', () => {
    expect(apiDocument['servers']).toEqual([expect.objectContaining({ url: expect.stringMatching(/\/v1\.0$/) })]);
    const paths = apiDocument['paths'] as Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>;
    for (const operations of Object.values(paths)) {
      expect(operations['post']!.security).toEqual([]);
      expect(Object.keys(operations['post']!.responses)).not.toContain('401');
    }
  });

});

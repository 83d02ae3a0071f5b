import { servedRoutes } from '@mercato/devstack';
import type { PlatformApi } from '../src/data-access/platform-api';
import { apiDocument, webOperations } from '../src/entry-points/api/openapi';
import { auditPages } from '../src/entry-points/pages/audit-pages';
import { catalogPages } from '../src/entry-points/pages/catalog-pages';
import { memePages } from '../src/entry-points/pages/meme-pages';
import type { Pages } from '../src/entry-points/pages/render';
import { sessionPages } from '../src/entry-points/pages/session-pages';
import { userPages } from '../src/entry-points/pages/user-pages';

type Operation = { requestBody?: { content: Record<string, { schema: { required: string[] } }> }; responses: Record<string, unknown>; security: unknown[] };
const operation = (path: string, method: string) => (apiDocument['paths'] as Record<string, Record<string, Operation>>)[path]![method]!;

describe('the web OpenAPI document', () => {
  it("when compared with the routers, then every served route is documented and nothing else (the library's callback aside)", () => {
    const api = {} as PlatformApi;
    const pages = {} as Pages;
    const served = [sessionPages(pages), catalogPages(api, pages, 'USD'), auditPages(api, pages), userPages(api, pages), memePages(api, pages)].flatMap(servedRoutes);
    const documented = webOperations.filter((op) => !op.library).map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(documented.sort()).toEqual(served.sort());
  });

  it('when a form is posted, then the document asks for the CSRF field and lists the refusals the form shows', () => {
    const post = operation('/products/{id}', 'post');
    expect(post.requestBody!.content['application/x-www-form-urlencoded']!.schema.required).toEqual(expect.arrayContaining(['_csrf', 'etag', 'sku']));
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['303', '400', '403', '412', '503']));
    expect(operation('/', 'get').security).toEqual([]);
    expect(operation('/me', 'get').security).toEqual([{ session: [] }]);
  });
});

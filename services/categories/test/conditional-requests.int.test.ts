import { api, eventually, stackInfo, tokenFor } from '@mercato/devstack';
import { MongoClient } from 'mongodb';
import { apiWithHeaders, type Category, type Problem, uniqueSlug } from './support';

/** ETags over the category's version (RFC 9110 §13): If-None-Match on reads, If-Match on writes. */

const problem = (code: string) => `https://mercato.dev/problems/${code}`;

async function create(name: string): Promise<{ category: Category; etag: string | null }> {
  const response = await api<Category>('POST', '/api/categories', { token: await tokenFor('editor'), body: { name, slug: uniqueSlug('etag') } });
  expect(response.status).toBe(201);
  return { category: response.body, etag: response.headers.get('etag') };
}

async function patchIf(ifMatch: string, ref: string, body: object) {
  return apiWithHeaders<Category & Problem>('PATCH', `/api/categories/${ref}`, { token: await tokenFor('editor'), headers: { 'if-match': ifMatch }, body });
}

/** Waits until the outbox clean-up (which bumps the internal `_rev`) has run after the last write. */
async function outboxSettled(id: string): Promise<void> {
  const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
  try {
    const categories = client.db('categories').collection<{ _id: string; _outboxPending?: boolean }>('categories');
    const doc = await eventually(() => categories.findOne({ _id: id }), (found) => found?._outboxPending === false, 15_000);
    expect(doc?._outboxPending).toBe(false);
  } finally {
    await client.close();
  }
}

describe('conditional requests on categories', () => {
  it('when a category is created and read, then both answer its version as the ETag; If-None-Match with it gets 304 and no body', async () => {
    const { category, etag } = await create('Tagged');
    expect(category.version).toBe(1);
    expect(etag).toBe('"1"');

    const viewer = await tokenFor('viewer');
    const read = await api<Category>('GET', `/api/categories/${category.id}`, { token: viewer });
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body.version).toBe(1);

    const notModified = await apiWithHeaders('GET', `/api/categories/${category.slug}`, { token: viewer, headers: { 'if-none-match': '"1"' } });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeUndefined();
    expect(notModified.headers.get('etag')).toBe('"1"');
  });

  it('when a PATCH carries the current ETag, then it is applied, and the next one with the ETag it answered succeeds too, after the outbox clean-up', async () => {
    const { category } = await create('Chained');
    const first = await patchIf('"1"', category.id, { description: 'first' });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    expect(first.body.version).toBe(2);

    // The clean-up writes the document again right after the change; the version it answered must still be current.
    await outboxSettled(category.id);
    const second = await patchIf(first.headers.get('etag')!, category.id, { description: 'second' });
    expect(second.status).toBe(200);
    expect(second.headers.get('etag')).toBe('"3"');

    const stale = await apiWithHeaders('GET', `/api/categories/${category.id}`, { token: await tokenFor('viewer'), headers: { 'if-none-match': '"2"' } });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('etag')).toBe('"3"');
  });

  it('when a PATCH, a move or a DELETE carries a stale ETag, then 412 stale-version and nothing changes', async () => {
    const { category } = await create('Contested');
    const parent = await create('Elsewhere');
    expect((await patchIf('"1"', category.id, { name: 'Changed once' })).status).toBe(200);

    const renamed = await patchIf('"1"', category.id, { name: 'Lost update' });
    expect(renamed.status).toBe(412);
    expect(renamed.body.type).toBe(problem('stale-version'));
    expect(renamed.body.detail).toMatch(/version 2/);

    const moved = await patchIf('"1"', category.id, { parentId: parent.category.id });
    expect(moved.status).toBe(412);

    const deleted = await apiWithHeaders<Problem>('DELETE', `/api/categories/${category.id}`, { token: await tokenFor('admin'), headers: { 'if-match': '"1"' } });
    expect(deleted.status).toBe(412);
    expect(deleted.body.type).toBe(problem('stale-version'));

    const now = await api<Category>('GET', `/api/categories/${category.id}`, { token: await tokenFor('viewer') });
    expect(now.body).toMatchObject({ name: 'Changed once', parentId: null, version: 2 });
  });

  it('when If-Match is * then any version is accepted; when it names no version (weak, garbled), then 412 and nothing changes', async () => {
    const { category } = await create('Any version');
    expect((await patchIf('*', category.id, { description: 'whatever the version' })).status).toBe(200);
    // RFC 9110: If-Match compares strongly, so a weak tag never matches; neither does a value that is no ETag at all.
    for (const ifMatch of ['W/"2"', '2', 'garbled"']) {
      const refused = await patchIf(ifMatch, category.id, { description: 'never written' });
      expect(refused.status).toBe(412);
    }
    const now = await api<Category>('GET', `/api/categories/${category.id}`, { token: await tokenFor('viewer') });
    expect(now.body).toMatchObject({ description: 'whatever the version', version: 2 });
  });
});

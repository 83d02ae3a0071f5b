import { randomUUID } from 'node:crypto';
import { api, controlProcess, eventually, receivedEvents, stackInfo, tokenFor } from '@mercato/devstack';
import { MongoClient } from 'mongodb';
import { type Category, type Page, type Problem, uniqueSlug } from './support';

async function create(body: object, role: 'editor' | 'admin' = 'editor') {
  return api<Category & Problem>('POST', '/api/categories', { token: await tokenFor(role), body });
}

/** Reads the database directly, bypassing the service, to prove what was (not) stored. */
async function storedWithSlug(slug: string): Promise<number> {
  const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
  try {
    return await client.db('categories').collection('categories').countDocuments({ slug });
  } finally {
    await client.close();
  }
}

describe('categories through ingress → daprd (bearer) → app → FerretDB', () => {
  it('when a request has no token, then the sidecar refuses it with 401 problem+json before the app runs', async () => {
    const response = await api<Problem>('GET', '/api/categories');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.type).toBe('https://mercato.dev/problems/unauthenticated');
  });

  it('when the token is forged, then the sidecar refuses it with 401', async () => {
    const viewer = await tokenFor('viewer');
    const [header, payload] = viewer.split('.');
    const response = await api('GET', '/api/categories', { token: `${header}.${payload}.forged-signature` });
    expect(response.status).toBe(401);
  });

  it('when a viewer lists, then 200 with a page; when a viewer creates, then 403 problem+json', async () => {
    const viewer = await tokenFor('viewer');
    const list = await api<Page>('GET', '/api/categories', { token: viewer });
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body.items)).toBe(true);

    const slug = uniqueSlug('viewer-made');
    const denied = await api<Problem>('POST', '/api/categories', { token: viewer, body: { name: 'Nope', slug } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await storedWithSlug(slug)).toBe(0);
  });

  it('when an editor creates a category, then 201 and a subscriber receives catalog.category.created through Dapr pub/sub', async () => {
    const slug = uniqueSlug('laptops');
    const created = await create({ name: 'Laptops', slug, description: 'Portable computers' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Laptops', slug, parentId: null, ancestors: [] });
    expect(created.headers.get('location')).toBe(`/api/categories/${created.body.id}`);

    const events = await eventually(receivedEvents, (all) => all.some((e) => e.subject === created.body.id));
    const event = events.find((e) => e.subject === created.body.id);
    expect(event).toMatchObject({ type: 'catalog.category.created', source: 'categories', data: { slug } });
    // The event stays in the request's trace: daprd's traceparent on the response and on the event share the trace id.
    const traceIdOf = (traceparent: unknown) => String(traceparent).split('-')[1];
    expect(traceIdOf((event as Record<string, unknown>)['traceparent'])).toBe(traceIdOf(created.headers.get('traceparent')));
  });

  it('when the body is invalid, then 400 problem+json naming each field and nothing is stored', async () => {
    const slug = 'Not A Slug';
    const response = await create({ name: '', slug, unexpected: true });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(['body.name', 'body.slug']));
    expect(await storedWithSlug(slug)).toBe(0);
  });

  it('when the body is not JSON at all, then 400 malformed-json', async () => {
    const response = await api<Problem>('POST', '/api/categories', { token: await tokenFor('editor'), rawBody: '{"name":' });
    expect(response.status).toBe(400);
    expect(response.body.type).toBe('https://mercato.dev/problems/malformed-json');
  });

  it('when the slug is taken on create or rename, then 409 duplicate-slug and nothing changes', async () => {
    const slug = uniqueSlug('phones');
    expect((await create({ name: 'Phones', slug })).status).toBe(201);
    const duplicate = await create({ name: 'Other phones', slug });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.type).toBe('https://mercato.dev/problems/duplicate-slug');
    expect(await storedWithSlug(slug)).toBe(1);

    // Renaming another category onto the taken slug is the same conflict (FerretDB reports it differently on update).
    const other = await create({ name: 'Tablets', slug: uniqueSlug('tablets') });
    const renamed = await api<Problem>('PATCH', `/api/categories/${other.body.id}`, { token: await tokenFor('editor'), body: { slug } });
    expect(renamed.status).toBe(409);
    expect(renamed.body.type).toBe('https://mercato.dev/problems/duplicate-slug');
    expect(await storedWithSlug(other.body.slug)).toBe(1);
  });

  it('when a child is created and moved, then ancestors follow; moving a parent below its child is refused with 422', async () => {
    const root = await create({ name: 'Electronics', slug: uniqueSlug('electronics') });
    const child = await create({ name: 'Audio', slug: uniqueSlug('audio'), parentId: root.body.id });
    expect(child.status).toBe(201);
    expect(child.body.ancestors).toEqual([root.body.id]);
    const grandchild = await create({ name: 'Headphones', slug: uniqueSlug('headphones'), parentId: child.body.id });
    expect(grandchild.body.ancestors).toEqual([root.body.id, child.body.id]);

    const editor = await tokenFor('editor');
    const cycle = await api<Problem>('PATCH', `/api/categories/${root.body.id}`, { token: editor, body: { parentId: grandchild.body.id } });
    expect(cycle.status).toBe(422);
    expect(cycle.body.type).toBe('https://mercato.dev/problems/category-cycle');

    const newRoot = await create({ name: 'Hi-fi', slug: uniqueSlug('hifi') });
    const moved = await api<Category>('PATCH', `/api/categories/${child.body.id}`, { token: editor, body: { parentId: newRoot.body.id } });
    expect(moved.status).toBe(200);
    expect(moved.body.ancestors).toEqual([newRoot.body.id]);
    const movedGrandchild = await api<Category>('GET', `/api/categories/${grandchild.body.id}`, { token: editor });
    expect(movedGrandchild.body.ancestors).toEqual([newRoot.body.id, child.body.id]);

    const children = await api<Page>('GET', `/api/categories?parent=${newRoot.body.id}`, { token: editor });
    expect(children.body.items.map((c) => c.id)).toEqual([child.body.id]);
  });

  it('when a viewer asks for the API description, then the OpenAPI document comes through the ingress', async () => {
    const response = await api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/api/categories/openapi.json', { token: await tokenFor('viewer') });
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(Object.keys(response.body.paths)).toEqual(['/categories', '/categories/{id}']);
  });

  it('when a category is read by slug or searched by text, then it is found', async () => {
    const slug = uniqueSlug('garden-tools');
    const created = await create({ name: 'Garden Tools', slug });
    const viewer = await tokenFor('viewer');
    const bySlug = await api<Category>('GET', `/api/categories/${slug}`, { token: viewer });
    expect(bySlug.body.id).toBe(created.body.id);
    const search = await api<Page>('GET', `/api/categories?q=${encodeURIComponent(slug.toUpperCase())}`, { token: viewer });
    expect(search.body.items.map((c) => c.slug)).toEqual([slug]);
    const badQuery = await api<Problem>('GET', '/api/categories?limit=zero', { token: viewer });
    expect(badQuery.status).toBe(400);
  });

  it('when an editor deletes, then 403; when an admin deletes a parent, then 409; a leaf, then 204 and a deleted event', async () => {
    const parent = await create({ name: 'Toys', slug: uniqueSlug('toys') });
    const leaf = await create({ name: 'Puzzles', slug: uniqueSlug('puzzles'), parentId: parent.body.id });
    const admin = await tokenFor('admin');

    expect((await api('DELETE', `/api/categories/${leaf.body.id}`, { token: await tokenFor('editor') })).status).toBe(403);
    const refused = await api<Problem>('DELETE', `/api/categories/${parent.body.id}`, { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('https://mercato.dev/problems/category-has-children');

    expect((await api('DELETE', `/api/categories/${leaf.body.id}`, { token: admin })).status).toBe(204);
    expect((await api('GET', `/api/categories/${leaf.body.id}`, { token: admin })).status).toBe(404);
    expect(await storedWithSlug(leaf.body.slug)).toBe(0); // gone for good once its event was delivered
    const events = await eventually(receivedEvents, (all) => all.some((e) => e.type === 'catalog.category.deleted' && e.subject === leaf.body.id));
    expect(events.some((e) => e.type === 'catalog.category.deleted' && e.subject === leaf.body.id)).toBe(true);
  });

  it('when the broker is down during a write, then the write succeeds and its event arrives once the broker is back', async () => {
    await controlProcess('redis', 'stop');
    let created: Awaited<ReturnType<typeof create>>;
    try {
      created = await create({ name: 'Written during a broker outage', slug: uniqueSlug('outbox') });
      expect(created.status).toBe(201);
    } finally {
      await controlProcess('redis', 'start');
    }
    const events = await eventually(receivedEvents, (all) => all.some((e) => e.subject === created.body.id), 45_000);
    // Delivery is at least once (both replicas' relays may send a leftover before either removes it), always with the
    // same event id, on which subscribers de-duplicate: one distinct event.
    const distinct = new Map(events.filter((e) => e.subject === created.body.id).map((e) => [e.id, e.type]));
    expect([...distinct.values()]).toEqual(['catalog.category.created']);
  }, 90_000);

  it('when the service stopped between writing a change and publishing its event, then the relay publishes it', async () => {
    // The state a crash right after the write leaves behind: the change is stored with its undelivered event.
    const id = randomUUID();
    const now = new Date();
    const event = {
      specversion: '1.0', id: randomUUID(), type: 'catalog.category.created', source: 'categories', subject: id,
      time: now.toISOString(), datacontenttype: 'application/json', data: { id, slug: uniqueSlug('crash') },
    };
    const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
    try {
      const categories = client.db('categories').collection<{ _id: string; [field: string]: unknown }>('categories');
      // The write's outbox mark, inserted before the write: what the relay looks for (platform revisions.ts).
      const marks = client.db('categories').collection<{ _id: string; at: Date }>('categories_outbox_marks');
      await marks.insertOne({ _id: `${id}:1`, at: now });
      await categories.insertOne({
        _id: id, name: 'Written before a crash', slug: event.data.slug, parentId: null, ancestors: [], description: '',
        createdAt: now, updatedAt: now, _outbox: [event], _outboxPending: true, _rev: 1,
      });
      const events = await eventually(receivedEvents, (all) => all.some((e) => e.id === event.id), 20_000);
      // At least once, always under the event's own id (the replicas' relays take a lease, so normally exactly once).
      expect(events.filter((e) => e.id === event.id).length).toBeGreaterThanOrEqual(1);
      const settled = await eventually(() => categories.findOne({ _id: id }), (doc) => doc?.['_outboxPending'] === false, 10_000);
      expect(settled?.['_outbox']).toEqual([]);
      // Once its events are out, the mark goes too, so the relay's next round does not look at the category again.
      expect(await eventually(() => marks.countDocuments({ _id: `${id}:1` }), (count) => count === 0, 10_000)).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('when a category is created and changed, then both events arrive and neither write leaves its outbox mark behind', async () => {
    const created = await create({ name: 'Marked twice', slug: uniqueSlug('marks') });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const changed = await api<Category>('PATCH', `/api/categories/${id}`, { token: await tokenFor('editor'), body: { description: 'changed' } });
    expect(changed.status).toBe(200);
    const events = await eventually(receivedEvents, (all) => all.filter((e) => e.subject === id).length >= 2);
    expect(new Set(events.filter((e) => e.subject === id).map((e) => e.type))).toEqual(new Set(['catalog.category.created', 'catalog.category.updated']));
    const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
    try {
      const db = client.db('categories');
      // Each write's mark (`<id>:<revision>`) goes once its events are out, whichever delivery sends them.
      const marks = db.collection<{ _id: string }>('categories_outbox_marks');
      expect(await eventually(() => marks.countDocuments({ _id: { $regex: `^${id}:` } }), (count) => count === 0, 10_000)).toBe(0);
      const stored = await db.collection<{ _id: string; [field: string]: unknown }>('categories').findOne({ _id: id });
      expect(stored?.['_outboxPending']).toBe(false);
      expect(stored?.['_outbox']).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('when the service restarts on its existing database, then it becomes ready again and keeps its data', async () => {
    const slug = uniqueSlug('kept');
    expect((await create({ name: 'Kept', slug })).status).toBe(201);
    const readyz = `http://127.0.0.1:${stackInfo().sidecars['categories']!.appPort}/readyz`;

    await controlProcess('categories-1', 'stop');
    await controlProcess('categories-1', 'start');

    const status = await eventually(() => fetch(readyz).then((r) => r.status).catch(() => 0), (s) => s === 200, 20_000);
    expect(status).toBe(200);
    const found = await api<Category>('GET', `/api/categories/${slug}`, { token: await tokenFor('viewer') });
    expect(found.status).toBe(200);
  });

  it('when FerretDB stops, then /readyz fails and requests get 503; when it returns, then both recover', async () => {
    const { sidecars } = stackInfo();
    const readyz = `http://127.0.0.1:${sidecars['categories']!.appPort}/readyz`;
    const viewer = await tokenFor('viewer');
    expect((await fetch(readyz)).status).toBe(200);

    await controlProcess('ferretdb', 'stop');
    try {
      const notReady = await fetch(readyz);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { checks: Record<string, { ok: boolean }> }).checks['database']?.ok).toBe(false);

      const unavailable = await api<Problem>('GET', '/api/categories', { token: viewer });
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(unavailable.body.type).toBe('https://mercato.dev/problems/database-unavailable');
      const write = await create({ name: 'During outage', slug: uniqueSlug('outage') });
      expect(write.status).toBe(503);
    } finally {
      await controlProcess('ferretdb', 'start');
    }

    const recovered = await eventually(() => fetch(readyz).then((r) => r.status), (status) => status === 200, 20_000);
    expect(recovered).toBe(200);
    expect((await api('GET', '/api/categories', { token: viewer })).status).toBe(200);
  });
});

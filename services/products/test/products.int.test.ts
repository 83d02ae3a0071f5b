import { api, controlProcess, eventually, receivedEvents, stackInfo, tokenFor } from '@mercato/devstack';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createProduct, newCategory, productBody, search, uniqueWord, type Problem, type Product } from './support';

/** Reads the database directly, bypassing the service, to prove what was (not) stored. */
async function storedWithSku(sku: string): Promise<number> {
  const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
  try {
    return await client.db('products').collection('products').countDocuments({ sku: sku.toUpperCase() });
  } finally {
    await client.close();
  }
}

/** Leaves a SKU key behind as a create that crashed between its key and its product would, `ageMs` ago. */
async function leaveOrphanKey(sku: string, ageMs: number): Promise<void> {
  const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
  try {
    const keys = client.db('products').collection<{ _id: string; [field: string]: unknown }>('products_skus');
    await keys.insertOne({ _id: sku.toUpperCase(), productId: randomUUID(), at: new Date(Date.now() - ageMs), _rev: 1 });
  } finally {
    await client.close();
  }
}

/** Stores a product as one written before SKU keys existed (no key), and forgets that every product had one. */
async function storeWithoutKey(product: Product): Promise<void> {
  const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
  try {
    const db = client.db('products');
    const { id, createdAt, updatedAt, ...fields } = product;
    await db.collection<{ _id: string; [field: string]: unknown }>('products').insertOne({ _id: id, ...fields, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt), _rev: 1 });
    await db.collection<{ _id: string }>('products_skus').deleteOne({ _id: 'backfill:done' });
  } finally {
    await client.close();
  }
}

/** The product a SKU's key names, read straight from the database. */
async function keyHolderOf(sku: string): Promise<string | null | undefined> {
  const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
  try {
    const key = await client.db('products').collection<{ _id: string; productId: string | null }>('products_skus').findOne({ _id: sku.toUpperCase() });
    return key?.productId;
  } finally {
    await client.close();
  }
}

/** A product or a problem: both have a `status`, of different types. */
type Answer = Omit<Product, 'status'> & Omit<Problem, 'status'>;

const post = async (body: unknown, role: 'editor' | 'viewer' = 'editor') =>
  api<Answer>('POST', '/api/products', { token: await tokenFor(role), body });

describe('products through ingress → daprd (bearer) → app → FerretDB', () => {
  let category: string;
  beforeAll(async () => {
    category = await newCategory('Products test');
  });

  it('when an editor creates a product, then 201 with Location and ETag, and catalog.product.created is published', async () => {
    const body = productBody(category, { sku: uniqueWord('sku-'), name: 'Trail shoe' });
    const created = await post(body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ sku: body.sku.toUpperCase(), name: 'Trail shoe', categoryIds: [category], version: 1 });
    expect(created.headers.get('location')).toBe(`/api/products/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('"1"');
    const events = await eventually(receivedEvents, (all) => all.some((e) => e.subject === created.body.id));
    expect(events.find((e) => e.subject === created.body.id)).toMatchObject({ type: 'catalog.product.created', source: 'products' });
    // The write's outbox mark is gone once its event is out: the relay only ever reads the few that are left.
    const client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 3000 });
    try {
      const marks = client.db('products').collection<{ _id: string }>('products_outbox_marks');
      expect(await eventually(() => marks.countDocuments({ _id: `${created.body.id}:1` }), (count) => count === 0)).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('when a viewer creates, then 403; when the body is invalid, then 400 naming each field; nothing is stored', async () => {
    const sku = uniqueWord('denied-');
    expect((await post(productBody(category, { sku }), 'viewer')).status).toBe(403);
    const invalid = await post(productBody(category, { sku, price: { amount: 19.99, currency: 'usd' }, categoryIds: [], extra: 1 }));
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.map((e) => e.path)).toEqual(
      expect.arrayContaining(['body.price.amount', 'body.price.currency', 'body.categoryIds', 'body.extra']),
    );
    const injected = await post(productBody(category, { sku: { $gt: '' }, name: { $ne: null } }));
    expect(injected.status).toBe(400);
    expect(injected.body.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(['body.sku', 'body.name']));
    expect(await storedWithSku(sku)).toBe(0);
  });

  it('when a category does not exist, then 422 naming it; when the currency is not the catalog\'s, then 422; nothing is stored', async () => {
    const sku = uniqueWord('orphan-');
    const unknown = '00000000-0000-4000-8000-000000000000';
    const orphan = await post(productBody(category, { sku, categoryIds: [category, unknown] }));
    expect(orphan.status).toBe(422);
    expect(orphan.body.type).toBe('https://mercato.dev/problems/category-not-found');
    expect(orphan.body.detail).toContain(unknown);
    const euro = await post(productBody(category, { sku, price: { amount: 100, currency: 'EUR' } }));
    expect(euro.status).toBe(422);
    expect(euro.body.type).toBe('https://mercato.dev/problems/currency-not-supported');
    expect(await storedWithSku(sku)).toBe(0);
  });

  it('when the SKU is taken (in any case), then 409 duplicate-sku', async () => {
    const sku = uniqueWord('dup-');
    await createProduct(category, { sku });
    const again = await post(productBody(category, { sku: sku.toLowerCase() }));
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('https://mercato.dev/problems/duplicate-sku');
  });

  it('when read by id or by SKU, then the product with its ETag; with that ETag in If-None-Match, then 304', async () => {
    const { body: product } = await createProduct(category, { sku: uniqueWord('read-') });
    const viewer = await tokenFor('viewer');
    const byId = await api<Product>('GET', `/api/products/${product.id}`, { token: viewer });
    expect(byId.status).toBe(200);
    expect(byId.headers.get('etag')).toBe('"1"');
    const bySku = await api<Product>('GET', `/api/products/${product.sku.toLowerCase()}`, { token: viewer });
    expect(bySku.body.id).toBe(product.id);
    const response = await fetch(`${stackInfo().ingressUrl}/api/products/${product.id}`, {
      headers: { authorization: `Bearer ${viewer}`, 'if-none-match': '"1"' },
    });
    expect(response.status).toBe(304);
  });

  it('when a product\'s SKU changes, then it is read by the new SKU, the old one answers 404 and another product may take it', async () => {
    const [oldSku, newSku] = [uniqueWord('was-'), uniqueWord('now-')];
    const { body: product } = await createProduct(category, { sku: oldSku });
    const editor = await tokenFor('editor');
    const moved = await api<Product>('PATCH', `/api/products/${oldSku}`, { token: editor, body: { sku: newSku } });
    expect(moved.status).toBe(200);
    expect((await api<Product>('GET', `/api/products/${newSku}`, { token: editor })).body.id).toBe(product.id);
    expect((await api('GET', `/api/products/${oldSku}`, { token: editor })).status).toBe(404);
    const taker = await post(productBody(category, { sku: oldSku }));
    expect(taker.status).toBe(201);
    expect((await api<Product>('GET', `/api/products/${oldSku}`, { token: editor })).body.id).toBe(taker.body.id);
    // The new SKU is the moved product's alone.
    expect((await post(productBody(category, { sku: newSku }))).status).toBe(409);
  });

  it('when a product is deleted, then its SKU answers 404 and can be used again at once', async () => {
    const sku = uniqueWord('gone-');
    const { body: product } = await createProduct(category, { sku });
    expect((await api('DELETE', `/api/products/${product.id}`, { token: await tokenFor('admin') })).status).toBe(204);
    expect((await api('GET', `/api/products/${sku}`, { token: await tokenFor('editor') })).status).toBe(404);
    expect((await post(productBody(category, { sku }))).status).toBe(201);
  });

  it('when a crashed create left its SKU key naming no product, then the SKU answers 404, and a create takes it once the key is stale', async () => {
    const [stale, fresh] = [uniqueWord('orphan-'), uniqueWord('inflight-')];
    await leaveOrphanKey(stale, 60_000);
    await leaveOrphanKey(fresh, 0);
    expect((await api('GET', `/api/products/${stale}`, { token: await tokenFor('editor') })).status).toBe(404);
    expect((await post(productBody(category, { sku: stale }))).status).toBe(201);
    expect(await storedWithSku(stale)).toBe(1);
    // A key held a moment ago may be a create still under way: the SKU is not handed to another writer yet.
    expect((await post(productBody(category, { sku: fresh }))).status).toBe(409);
    expect(await storedWithSku(fresh)).toBe(0);
  });

  it('when eight creators send one new SKU at once, then exactly one gets 201 and the others 409', async () => {
    const sku = uniqueWord('same-');
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(productBody(category, { sku })).then((r) => r.status)));
    expect(answers.filter((s) => s === 201)).toHaveLength(1);
    expect(answers.filter((s) => s === 409)).toHaveLength(7);
    expect(await storedWithSku(sku)).toBe(1);
  });

  it('when a product is a draft, then viewers neither read nor find it, and editors do', async () => {
    const word = uniqueWord('draft');
    const { body: draft } = await createProduct(category, { status: 'draft', name: `Draft ${word}` });
    expect((await api('GET', `/api/products/${draft.id}`, { token: await tokenFor('viewer') })).status).toBe(404);
    expect((await api('GET', `/api/products/${draft.id}`, { token: await tokenFor('editor') })).status).toBe(200);
    expect((await search(`q=${word}&status=draft`, 'viewer')).body.total).toBe(0);
    expect((await search(`q=${word}&status=draft`, 'editor')).body.items.map((p) => p.id)).toEqual([draft.id]);
  });

  it('when a write names a stale ETag in If-Match, then 412 and nothing changes; with the current one, then 200 and a new ETag', async () => {
    const { body: product } = await createProduct(category, { sku: uniqueWord('etag-') });
    const editor = await tokenFor('editor');
    const patch = (ifMatch: string, name: string) =>
      fetch(`${stackInfo().ingressUrl}/api/products/${product.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json', 'if-match': ifMatch },
        body: JSON.stringify({ name }),
      });
    const current = await patch('"1"', 'Renamed once');
    expect(current.status).toBe(200);
    expect(current.headers.get('etag')).toBe('"2"');
    const stale = await patch('"1"', 'Lost rename');
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as Problem).type).toBe('https://mercato.dev/problems/stale-version');
    const read = await api<Product>('GET', `/api/products/${product.id}`, { token: editor });
    expect(read.body).toMatchObject({ name: 'Renamed once', version: 2 });
  });

  it('when eight writers send the same If-Match at once, then exactly one wins and the others get 412', async () => {
    const { body: product } = await createProduct(category, { sku: uniqueWord('race-') });
    const editor = await tokenFor('editor');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(`${stackInfo().ingressUrl}/api/products/${product.id}`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json', 'if-match': '"1"' },
          body: JSON.stringify({ stock: 100 + i }),
        }).then((r) => r.status),
      ),
    );
    expect(answers.filter((s) => s === 200)).toHaveLength(1);
    expect(answers.filter((s) => s === 412)).toHaveLength(7);
    const read = await api<Product>('GET', `/api/products/${product.id}`, { token: editor });
    expect(read.body.version).toBe(2);
    expect(read.body.stock).toBe(100 + answers.indexOf(200));
  });

  it('when PUT replaces a product, then every field is the new one; when an admin deletes it, then 204 and 404 after', async () => {
    const { body: product } = await createProduct(category, { sku: uniqueWord('put-'), tags: ['old'] });
    const editor = await tokenFor('editor');
    const replaced = await api<Product>('PUT', `/api/products/${product.id}`, {
      token: editor,
      body: productBody(category, { sku: product.sku, name: 'Replaced', tags: [], attributes: { color: 'red' } }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: 'Replaced', tags: [], attributes: { color: 'red' }, version: 2, createdAt: product.createdAt });
    expect((await api('DELETE', `/api/products/${product.id}`, { token: editor })).status).toBe(403);
    expect((await api('DELETE', `/api/products/${product.id}`, { token: await tokenFor('admin') })).status).toBe(204);
    expect((await api('GET', `/api/products/${product.id}`, { token: editor })).status).toBe(404);
  });

  it('when categories is down, then a write that names a category answers 503 with Retry-After and stores nothing', async () => {
    const sku = uniqueWord('down-');
    const replicas = stackInfo().replicas['categories']!.length;
    const names = Array.from({ length: replicas }, (_, i) => `categories-${i + 1}`);
    await Promise.all(names.map((name) => controlProcess(name, 'stop')));
    try {
      const response = await post(productBody(category, { sku }));
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await Promise.all(names.map((name) => controlProcess(name, 'start')));
    }
    expect(await storedWithSku(sku)).toBe(0);
    await eventually(() => post(productBody(category, { sku })).then((r) => r.status), (status) => status === 201, 30_000);
  });

  it('when products stored before SKU keys existed meet a restarted service, then each gets its key and is read by SKU', async () => {
    const sku = uniqueWord('legacy-').toUpperCase();
    const now = new Date().toISOString();
    const legacy = { ...productBody(category, { sku }), id: randomUUID(), createdAt: now, updatedAt: now, version: 1 } as Product;
    await storeWithoutKey(legacy);
    expect(await keyHolderOf(sku)).toBeUndefined();
    const names = stackInfo().replicas['products']!.map((_, i) => `products-${i + 1}`);
    for (const name of names) {
      await controlProcess(name, 'stop');
      await controlProcess(name, 'start');
    }
    const editor = await tokenFor('editor');
    const read = await eventually(() => api<Product>('GET', `/api/products/${sku}`, { token: editor }), (r) => r.status === 200, 60_000);
    expect(read.body.id).toBe(legacy.id);
    expect(await keyHolderOf(sku)).toBe(legacy.id);
    const again = await eventually(() => post(productBody(category, { sku })).then((r) => r.status), (status) => status !== 503, 30_000);
    expect(again).toBe(409);
  });
});

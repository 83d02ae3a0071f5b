import { api, eventually, replicaApi, tokenFor } from '@mercato/devstack';
import { createProduct, newCategory, search, uniqueWord, type Problem, type Product, type SearchPage } from './support';

const ids = (page: SearchPage) => page.items.map((p) => p.id);

describe('product search: text, filters, facets, sort and cursor (real index on each replica)', () => {
  let parent: string;
  let child: string;
  let word: string;
  const made: Record<string, Product> = {};

  beforeAll(async () => {
    parent = await newCategory('Phones');
    child = await newCategory('Smartphones', parent);
    word = uniqueWord('brand');
    const specs: Array<[string, Record<string, unknown>]> = [
      ['iphone', { name: `iPhone 15 ${word}`, categoryIds: [child], price: { amount: 79900, currency: 'USD' }, attributes: { color: 'black', storage: 128 }, tags: ['apple', 'ios'], stock: 3 }],
      ['samsung', { name: `Samsung Galaxy ${word}`, categoryIds: [child], price: { amount: 69900, currency: 'USD' }, attributes: { color: 'blue', storage: 256 }, tags: ['android'], stock: 0 }],
      ['pixel', { name: `Pixel 8 ${word}`, categoryIds: [child], price: { amount: 59900, currency: 'USD' }, attributes: { color: 'black', storage: 256 }, tags: ['android'], stock: 7 }],
      ['case', { name: `Phone case ${word}`, categoryIds: [parent], price: { amount: 1999, currency: 'USD' }, attributes: { color: 'blue' }, tags: ['accessory'], stock: 50 }],
    ];
    for (const [key, body] of specs) made[key] = (await createProduct(child, body)).body;
    // Every replica has seen every product before the searches start.
    for (const replica of [1, 2]) {
      await eventually(
        async () => (await replicaApi<SearchPage>('products', replica, 'GET', `/products?q=${word}&limit=10`, { token: await tokenFor('viewer') })).body,
        (page) => page.total === specs.length,
      );
    }
  });

  it('when the words carry typos, then "iphne" finds the iPhone and "samsnug" the Samsung', async () => {
    expect(ids((await search(`q=iphne%20${word}&category=${parent}&subtree=true`)).body)[0]).toBe(made['iphone']!.id);
    expect(ids((await search(`q=samsnug%20${word}&category=${parent}&subtree=true`)).body)[0]).toBe(made['samsung']!.id);
  });

  it('when browsing a category, then only its own products; with subtree=true, then everything below it too', async () => {
    expect(ids((await search(`category=${parent}`)).body)).toEqual([made['case']!.id]);
    expect((await search(`category=${parent}&subtree=true`)).body.total).toBe(4);
    expect((await search(`category=${child}`)).body.total).toBe(3);
  });

  it('when filtering by price, attributes, tags and stock, then only matching products, facets counted with their own filter removed', async () => {
    const page = (await search(`category=${parent}&subtree=true&attr.color=black,blue&attr.storage=256&price_max=70000&in_stock=true`)).body;
    expect(ids(page)).toEqual([made['pixel']!.id]);
    expect(page.total).toBe(1);
    // The color facet ignores the color filter (but keeps storage 256, in stock and the price bound): only the Pixel.
    expect(page.facets.attributes['color']).toEqual({ black: 1 });
    // The storage facet ignores the storage filter: the Pixel (256) and the Phone case has no storage.
    expect(page.facets.attributes['storage']).toEqual({ '256': 1 });
    const tagged = (await search(`category=${parent}&subtree=true&tags=android,accessory`)).body;
    expect(tagged.total).toBe(3);
    const priced = (await search(`category=${parent}&subtree=true&price_min=60000`)).body;
    expect(priced.total).toBe(2);
    // The price facet ignores the price bounds: every product of the subtree is in a bucket.
    expect(priced.facets.price.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(4);
    // The category facet ignores the category filter but counts within the other filters.
    expect(priced.facets.categories[child]).toBeGreaterThanOrEqual(2);
  });

  it('when sorting by price, name or newest in either order, then the order holds and the cursor pages without repeats', async () => {
    const byPrice = (await search(`category=${parent}&subtree=true&sort=price`)).body;
    expect(byPrice.items.map((p) => p.price.amount)).toEqual([1999, 59900, 69900, 79900]);
    const byPriceDesc = (await search(`category=${parent}&subtree=true&sort=price&order=desc`)).body;
    expect(byPriceDesc.items.map((p) => p.price.amount)).toEqual([79900, 69900, 59900, 1999]);
    const byName = (await search(`category=${parent}&subtree=true&sort=name`)).body;
    expect(byName.items.map((p) => p.name.toLowerCase())).toEqual(byName.items.map((p) => p.name.toLowerCase()).sort());
    const newest = (await search(`category=${parent}&subtree=true&sort=newest`)).body;
    expect(ids(newest)[0]).toBe(made['case']!.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: SearchPage = (await search(`category=${parent}&subtree=true&sort=price&limit=1${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids(byPrice));
  });

  it('when products are added between pages, then every product that was there appears exactly once', async () => {
    const category = await newCategory('Paging');
    const prices = [500, 1500, 2500, 3500, 4500, 5500];
    const before = new Set<string>();
    for (const amount of prices) before.add((await createProduct(category, { price: { amount, currency: 'USD' } })).body.id);
    await eventually(() => search(`category=${category}`).then((r) => r.body.total), (total) => total === prices.length);
    const seen: string[] = [];
    let cursor: string | null = null;
    let added = 0;
    do {
      const page: SearchPage = (await search(`category=${category}&sort=price&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...ids(page));
      cursor = page.nextCursor;
      // New products on both sides of the position reached, cheaper and dearer.
      await Promise.all([createProduct(category, { price: { amount: 100 + added, currency: 'USD' } }), createProduct(category, { price: { amount: 9000 + added, currency: 'USD' } })]);
      added += 1;
    } while (cursor);
    const original = seen.filter((id) => before.has(id));
    expect(original).toHaveLength(before.size);
    expect(new Set(original).size).toBe(before.size);
  });

  it('when a category moves, then its products are found under the new parent\'s subtree and no longer under the old one', async () => {
    const from = await newCategory('Old home');
    const to = await newCategory('New home');
    const moving = await newCategory('Moving', from);
    const { body: product } = await createProduct(moving);
    await eventually(() => search(`category=${from}&subtree=true`).then((r) => ids(r.body)), (found) => found.includes(product.id));
    const moved = await api('PATCH', `/api/categories/${moving}`, { token: await tokenFor('editor'), body: { parentId: to } });
    expect(moved.status).toBe(200);
    for (const replica of [1, 2]) {
      const found = await eventually(
        async () => ids((await replicaApi<SearchPage>('products', replica, 'GET', `/products?category=${to}&subtree=true`, { token: await tokenFor('viewer') })).body),
        (list) => list.includes(product.id),
      );
      expect(found).toContain(product.id);
    }
    expect(ids((await search(`category=${from}&subtree=true`)).body)).not.toContain(product.id);
  });

  it.each([
    ['sort=cheapest', 'query.sort'],
    ['price_min=500&price_max=100', 'query.price_min'],
    ['cursor=not-a-cursor', 'query.cursor'],
    ['attr.=red', 'query.attr.'],
    ['attr.Color!=red', 'query.attr.Color!'],
    ['limit=0', 'query.limit'],
    ['limit=1000', 'query.limit'],
    ['q[$gt]=', 'query.q[$gt]'],
    ['category=%7B%22%24gt%22%3A%22%22%7D', 'query.category'],
    ['subtree=true', 'query.subtree'],
  ])('when the query has %s, then 400 naming %s', async (query, field) => {
    const response = await api<Problem>('GET', `/api/products?${query}`, { token: await tokenFor('viewer') });
    expect(response.status).toBe(400);
    expect(response.body.errors?.map((e) => e.path)).toContain(field);
  });

  it('when a cursor of one sort is sent with another, then 400 invalid-cursor', async () => {
    const page = (await search(`category=${parent}&subtree=true&sort=price&limit=1`)).body;
    const response = await search(`category=${parent}&subtree=true&sort=name&limit=1&cursor=${page.nextCursor}`);
    expect(response.status).toBe(400);
    expect((response.body as unknown as Problem).type).toBe('https://mercato.dev/problems/invalid-cursor');
  });
});

describe('two replicas: writes seen by the other replica, cached details never older than the writer\'s answer', () => {
  it('when a product is written through replica 1, then replica 2 finds it in search and serves the new detail', async () => {
    const category = await newCategory('Replicas');
    const viewer = await tokenFor('viewer');
    const editor = await tokenFor('editor');
    const created = await replicaApi<Product>('products', 1, 'POST', '/products', { token: editor, body: { sku: uniqueWord('R-'), name: 'Replica test', categoryIds: [category], price: { amount: 1000, currency: 'USD' }, status: 'active' } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Replica 2 reads it (filling its own L1 and the shared L2)…
    const first = await eventually(() => replicaApi<Product>('products', 2, 'GET', `/products/${id}`, { token: viewer }), (r) => r.status === 200);
    expect(first.body.version).toBe(1);
    const found = await eventually(
      async () => ids((await replicaApi<SearchPage>('products', 2, 'GET', `/products?category=${category}`, { token: viewer })).body),
      (list) => list.includes(id),
    );
    expect(found).toContain(id);

    // …then replica 1 changes it: replica 1 answers the new version at once, replica 2 within the event lag.
    const changed = await replicaApi<Product>('products', 1, 'PATCH', `/products/${id}`, { token: editor, body: { name: 'Renamed on replica 1' } });
    expect(changed.body.version).toBe(2);
    expect((await replicaApi<Product>('products', 1, 'GET', `/products/${id}`, { token: viewer })).body.version).toBe(2);
    const seen = await eventually(() => replicaApi<Product>('products', 2, 'GET', `/products/${id}`, { token: viewer }), (r) => r.body.version === 2, 5000);
    expect(seen.body.name).toBe('Renamed on replica 1');

    // A deletion through replica 2 is gone on replica 1 too, from the cache and from search.
    expect((await replicaApi('products', 2, 'DELETE', `/products/${id}`, { token: await tokenFor('admin') })).status).toBe(204);
    expect((await replicaApi('products', 2, 'GET', `/products/${id}`, { token: viewer })).status).toBe(404);
    const gone = await eventually(() => replicaApi('products', 1, 'GET', `/products/${id}`, { token: viewer }), (r) => r.status === 404, 5000);
    expect(gone.status).toBe(404);
    const unlisted = await eventually(
      async () => ids((await replicaApi<SearchPage>('products', 1, 'GET', `/products?category=${category}`, { token: viewer })).body),
      (list) => !list.includes(id),
    );
    expect(unlisted).not.toContain(id);
  });
});

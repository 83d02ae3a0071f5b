import { loadDemoCatalog, readDemoCatalog, type DemoCatalogSummary } from '../src/demo-catalog';
import { api, eventually, tokenFor } from '../src/testing/client';
import { stackInfo } from '../src/testing/stack-info';

/**
 * The demo catalog as `npm start` loads it, through the ingress with an editor's token. Other files share this
 * platform, so only the demo data is asserted on (their categories may already hold a demo slug: it is reused).
 */
const items = readDemoCatalog();
const mascaraSku = 'BEA-ESS-ESS-001';

interface StoredProduct {
  id: string;
  sku: string;
  version: number;
  updatedAt: string;
  categoryIds: string[];
}
interface SearchPage {
  items: StoredProduct[];
}

const load = (): Promise<DemoCatalogSummary> =>
  loadDemoCatalog({ ingressUrl: stackInfo().ingressUrl, token: () => tokenFor('editor'), progress: () => undefined });

/** Every demo product as stored, by SKU, read eight at a time. */
async function storedDemoProducts(): Promise<Map<string, StoredProduct>> {
  const token = await tokenFor('editor');
  const stored = new Map<string, StoredProduct>();
  for (let start = 0; start < items.length; start += 8) {
    const answers = await Promise.all(
      items.slice(start, start + 8).map((item) => api<StoredProduct>('GET', `/api/products/${item.sku}`, { token })),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      stored.set(answer.body.sku, answer.body);
    }
  }
  return stored;
}

const foundSkus = async (q: string): Promise<string[]> => {
  const answer = await api<SearchPage>('GET', `/api/products?q=${q}&limit=50`, { token: await tokenFor('viewer') });
  return answer.status === 200 ? answer.body.items.map((product) => product.sku) : [];
};

describe('the demo catalog', () => {
  let first: DemoCatalogSummary;
  let afterFirst: Map<string, StoredProduct>;

  beforeAll(async () => {
    first = await load();
    afterFirst = await storedDemoProducts();
  });

  it('when loaded, then all 194 products are there, each filed under its 24 categories by slug', async () => {
    expect(first.products.created + first.products.existing).toBe(194);
    expect(first.categories.created + first.categories.existing).toBe(24);
    expect(afterFirst.size).toBe(194);
    const beauty = await api<{ id: string }>('GET', '/api/categories/beauty', { token: await tokenFor('viewer') });
    expect(afterFirst.get(mascaraSku)?.categoryIds).toEqual([beauty.body.id]);
  });

  it('when loaded a second time, then nothing is created and every product keeps its version', async () => {
    const second = await load();
    expect(second).toEqual({ categories: { created: 0, existing: 24 }, products: { created: 0, existing: 194 } });
    const afterSecond = await storedDemoProducts();
    for (const [sku, product] of afterFirst) {
      expect({ sku, version: afterSecond.get(sku)?.version, updatedAt: afterSecond.get(sku)?.updatedAt }).toEqual({
        sku,
        version: product.version,
        updatedAt: product.updatedAt,
      });
    }
  });

  it('when a viewer searches "mascara", or misspells it "mascra", then the Essence mascara is found', async () => {
    // The search index of each products replica follows the events; the ingress may ask either replica.
    expect(await eventually(() => foundSkus('mascara'), (skus) => skus.includes(mascaraSku))).toContain(mascaraSku);
    expect(await eventually(() => foundSkus('mascra'), (skus) => skus.includes(mascaraSku))).toContain(mascaraSku);
  });
});

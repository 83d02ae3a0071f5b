import { newProductSchema } from '../../../services/products/src/domain/product-schema';
import { generateProducts, isLeaf, nouns, planCategories, productDocumentOf } from '../src/bench/catalog-generator';

const leafCategoryIds = ['6f1c2a8e-0b5d-4c3e-9a7f-1d2e3f4a5b6c', '0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d'];
const generate = (count: number, seed = 7) => [...generateProducts({ count, seed, leafCategoryIds })];

describe('the benchmark catalog', () => {
  it('when generated twice with the same seed, then the products are the same, and another seed gives others', () => {
    expect(generate(200)).toEqual(generate(200));
    expect(generate(20, 8).map((p) => p.name)).not.toEqual(generate(20).map((p) => p.name));
  });

  it('when generated, then every product is one the products API would accept, with a unique id and SKU', () => {
    const products = generate(2000);
    for (const product of products) {
      const { id: _id, createdAt: _created, updatedAt: _updated, version: _version, ...input } = product;
      expect(newProductSchema.safeParse(input).error).toBeUndefined();
      expect(product.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(products.map((p) => p.id)).size).toBe(products.length);
    expect(new Set(products.map((p) => p.sku)).size).toBe(products.length);
  });

  it('when a product kind is searched for, then about one name in forty has it, so a query finds a known share', () => {
    const products = generate(10_000);
    const share = products.filter((p) => p.name.includes(' headphones ')).length / products.length;
    expect(share).toBeGreaterThan(0.5 / nouns.length);
    expect(share).toBeLessThan(2 / nouns.length);
  });

  it('when the category tree is planned, then it has 52 categories on 3 levels, parents first, with unique slugs', () => {
    const planned = planCategories();
    expect(planned).toHaveLength(52);
    expect(planned.filter(isLeaf)).toHaveLength(36);
    expect(new Set(planned.map((c) => c.slug)).size).toBe(52);
    planned.forEach((category, at) => {
      if (category.path.length > 1) {
        const parent = planned.findIndex((c) => c.path.join() === category.path.slice(0, -1).join());
        expect(parent).toBeGreaterThanOrEqual(0);
        expect(parent).toBeLessThan(at);
      }
    });
  });

  it('when turned into a document, then it has the shape the products repository writes', () => {
    const [product] = generate(1);
    const document = productDocumentOf(product!);
    expect(document['_id']).toBe(product!.id);
    expect(document['id']).toBeUndefined();
    expect(document['createdAt']).toEqual(new Date(product!.createdAt));
    expect(document['updatedAt']).toBeInstanceOf(Date);
    expect(document).toMatchObject({ sku: product!.sku, version: 1, _rev: 1 });
  });
});

import {
  attributesOf,
  categoryRequestOf,
  categorySlugsOf,
  centsOf,
  describeRefusal,
  normaliseTag,
  productRequestOf,
  readDemoCatalog,
  reusedToken,
  tagsOf,
  type DummyJsonProduct,
} from '../src/demo-catalog';

const categoryId = '0b7f6c1e-3c55-4c0e-9a51-1f2d3c4b5a69';

/** The first product of the file, trimmed to the fields the loader reads. */
const mascara: DummyJsonProduct = {
  title: 'Essence Mascara Lash Princess',
  description: 'The Essence Mascara Lash Princess is a popular mascara.',
  category: 'beauty',
  price: 9.99,
  discountPercentage: 10.48,
  rating: 2.56,
  stock: 99,
  tags: ['beauty', 'mascara'],
  brand: 'Essence',
  sku: 'BEA-ESS-ESS-001',
  weight: 4,
  dimensions: { width: 15.14, height: 13.08, depth: 22.99 },
  warrantyInformation: '1 week warranty',
  shippingInformation: 'Ships in 3-5 business days',
  returnPolicy: 'No return policy',
  minimumOrderQuantity: 48,
  meta: { barcode: '5784719087687' },
};

describe('the demo catalog file', () => {
  it('when read, then it holds the 194 products in 24 categories with unique SKUs', () => {
    const items = readDemoCatalog();
    expect(items).toHaveLength(194);
    expect(categorySlugsOf(items)).toHaveLength(24);
    expect(new Set(items.map((item) => item.sku)).size).toBe(194);
  });

  it('when every product is mapped, then each fits the API rules: whole cents, pattern tags, pattern attributes', () => {
    for (const item of readDemoCatalog()) {
      const request = productRequestOf(item, categoryId);
      expect(Number.isInteger(request.price.amount)).toBe(true);
      expect(request.tags.length).toBeLessThanOrEqual(30);
      for (const tag of request.tags) expect(tag).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      for (const [name, value] of Object.entries(request.attributes)) {
        expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
        if (typeof value === 'string') expect(value).not.toContain(',');
      }
      expect(request.sku).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    }
  });
});

describe('mapping a DummyJSON product', () => {
  it('when mapped, then it is an active USD product in its category with its stock and normalised fields', () => {
    expect(productRequestOf(mascara, categoryId)).toEqual({
      sku: 'BEA-ESS-ESS-001',
      name: 'Essence Mascara Lash Princess',
      description: 'The Essence Mascara Lash Princess is a popular mascara.',
      categoryIds: [categoryId],
      price: { amount: 999, currency: 'USD' },
      attributes: {
        brand: 'Essence',
        rating: 2.56,
        discount_percentage: 10.48,
        weight: 4,
        width: 15.14,
        height: 13.08,
        depth: 22.99,
        warranty: '1 week warranty',
        shipping: 'Ships in 3-5 business days',
        return_policy: 'No return policy',
        minimum_order_quantity: 48,
        barcode: '5784719087687',
      },
      tags: ['beauty', 'mascara'],
      stock: 99,
      status: 'active',
    });
  });

  it('when a price has a binary fraction, then it is rounded to whole cents, not truncated', () => {
    expect(centsOf(0.29)).toBe(29);
    expect(centsOf(1899.99)).toBe(189999);
    expect(centsOf(1.005)).toBe(100); // 100.49999999999999: rounding the stored double, as any client would
  });

  it('when a product has no brand, then it has no brand attribute', () => {
    const { brand: _brand, ...unbranded } = mascara;
    expect(attributesOf(unbranded)).not.toHaveProperty('brand');
  });

  it('when a text value holds a comma, then that attribute is left out and the others kept', () => {
    const attributes = attributesOf({ ...mascara, brand: 'Smith, Sons & Co', returnPolicy: 'line\nbreak' });
    expect(attributes).not.toHaveProperty('brand');
    expect(attributes).not.toHaveProperty('return_policy');
    expect(attributes).toHaveProperty('warranty', '1 week warranty');
  });
});

describe('tags', () => {
  it.each([
    ['pet supplies', 'pet-supplies'],
    ["men's t-shirts", 'mens-t-shirts'],
    ["Girls' Dresses", 'girls-dresses'],
    ['  over-ear   headphones ', 'over-ear-headphones'],
    ['Crème brûlée', 'creme-brulee'],
  ])('when the tag is "%s", then it becomes "%s"', (raw, tag) => {
    expect(normaliseTag(raw)).toBe(tag);
  });

  it('when nothing usable is left, then the tag is dropped', () => {
    expect(normaliseTag(' -- ')).toBeUndefined();
    expect(tagsOf(['???', 'ok'])).toEqual(['ok']);
  });

  it('when a tag is longer than 40 characters, then it is cut without a trailing hyphen', () => {
    const tag = normaliseTag(`${'a'.repeat(39)} bcd`)!;
    expect(tag).toBe('a'.repeat(39));
  });

  it('when two tags normalise alike, then one is kept; and never more than 30', () => {
    expect(tagsOf(['Home Decor', 'home-decor', 'home decor'])).toEqual(['home-decor']);
    expect(tagsOf(Array.from({ length: 40 }, (_, i) => `tag ${i}`))).toHaveLength(30);
  });
});

describe('categories', () => {
  it('when a slug is mapped, then it keeps the slug and gets a title-cased name', () => {
    expect(categoryRequestOf('home-decoration')).toEqual({ name: 'Home Decoration', slug: 'home-decoration' });
    expect(categoryRequestOf('laptops')).toEqual({ name: 'Laptops', slug: 'laptops' });
  });
});

describe('a refusal', () => {
  it('when the API answers problem+json, then the message has the status, the problem type, the detail and each field', () => {
    const answer = {
      status: 400,
      body: {
        type: 'https://mercato.dev/problems/validation',
        title: 'Bad Request',
        status: 400,
        detail: 'The request is not valid',
        errors: [{ path: 'body.tags.0', message: 'lower-case letters, digits and single hyphens' }],
      },
    };
    expect(describeRefusal(answer)).toBe(
      '400 validation: The request is not valid: body.tags.0: lower-case letters, digits and single hyphens',
    );
  });

  it('when the answer is not a problem, then the message has the status and the start of the body', () => {
    expect(describeRefusal({ status: 502, body: '<html>Bad Gateway</html>' })).toBe('502 <html>Bad Gateway</html>');
  });
});

describe('the token source', () => {
  it('when asked twice while fresh, then it fetches once; when stale, then it fetches again', async () => {
    let fetched = 0;
    const token = reusedToken(async () => `token-${++fetched}`, 1000);
    await expect(token()).resolves.toBe('token-1');
    await expect(token()).resolves.toBe('token-1');
    const stale = reusedToken(async () => `token-${++fetched}`, 0);
    await expect(stale()).resolves.toBe('token-2');
    await expect(stale()).resolves.toBe('token-3');
  });

  it('when a fetch fails, then the next call fetches again instead of repeating the failure', async () => {
    let calls = 0;
    const token = reusedToken(async () => {
      calls += 1;
      if (calls === 1) throw new Error('Keycloak is not up');
      return 'token';
    });
    await expect(token()).rejects.toThrow('Keycloak is not up');
    await expect(token()).resolves.toBe('token');
  });
});

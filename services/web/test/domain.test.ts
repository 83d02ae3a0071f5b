import { AppError } from '@mercato/platform';
import { catalogSearchOf, majorUnitsOf, minorUnitsOf, searchLink } from '../src/domain/catalog-search';
import { problemViewOf } from '../src/domain/problem-view';
import { productBodyOf } from '../src/domain/product-form';
import { safeReturnTo } from '../src/domain/return-to';
import { viewerOf } from '../src/domain/viewer';

const tokenWith = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('safeReturnTo', () => {
  it.each([
    ['/products/1?x=1', '/products/1?x=1'],
    ['/', '/'],
  ])('when given the site path %s, then it is kept', (given, kept) => {
    expect(safeReturnTo(given)).toBe(kept);
  });

  it.each(['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/a\nb', '', undefined, 42, 'x'.repeat(2001)])(
    'when given %p, then it falls back to the home page',
    (given) => {
      expect(safeReturnTo(given)).toBe('/');
    },
  );
});

describe('catalog search form', () => {
  it('when prices are typed in major units, then the API gets minor units and the form keeps what was typed', () => {
    const search = catalogSearchOf({ q: ' phone ', price_min: '10', price_max: '12.5', in_stock: 'true', 'attr.brand': 'Apple', bogus: 'x' });
    expect(search.apiQuery).toEqual({ q: 'phone', price_min: '1000', price_max: '1250', in_stock: 'true', 'attr.brand': 'Apple' });
    expect(search.form['price_max']).toBe('12.5');
    expect(search.fieldErrors).toEqual({});
  });

  it('when a price is no amount, then it is a field error and not sent', () => {
    const search = catalogSearchOf({ price_min: 'ten' });
    expect(search.fieldErrors['price_min']).toMatch(/amount/);
    expect(search.apiQuery['price_min']).toBeUndefined();
  });

  it('when subtree comes without a category, then it is dropped', () => {
    expect(catalogSearchOf({ subtree: 'true' }).apiQuery).toEqual({});
  });

  it('when a facet link changes a filter, then the cursor is dropped and the other filters kept', () => {
    expect(searchLink({ q: 'a b', cursor: 'c1', category: 'x' }, { category: 'y', subtree: 'true' })).toBe('/?q=a+b&category=y&subtree=true');
    expect(searchLink({ cursor: 'c1' }, {})).toBe('/');
  });

  it.each([
    ['12', 1200],
    ['12.5', 1250],
    ['12,05', 1205],
    ['0.99', 99],
  ])('when %s is an amount, then it is %d minor units', (text, minor) => {
    expect(minorUnitsOf(text)).toBe(minor);
    expect(minorUnitsOf(majorUnitsOf(minor))).toBe(minor);
  });

  it.each(['-1', '1.234', 'abc', '', '1e5'])('when %p is no amount, then it is refused', (text) => {
    expect(minorUnitsOf(text)).toBeUndefined();
  });
});

describe('product form', () => {
  it('when the form is filled in, then the body has typed attributes, split tags and the catalog currency', () => {
    const input = productBodyOf(
      { sku: 'A-1', name: 'Lamp', description: '', categoryIds: 'c1', price: '9.99', stock: '3', tags: 'a, b,,', attributes: 'watts=40\ndimmable=true\ncolour=red' },
      'USD',
    );
    expect(input.fieldErrors).toEqual({});
    expect(input.body).toMatchObject({
      categoryIds: ['c1'],
      price: { amount: 999, currency: 'USD' },
      stock: 3,
      tags: ['a', 'b'],
      attributes: { watts: 40, dimmable: true, colour: 'red' },
      status: 'draft',
    });
  });

  it('when price, stock or an attribute line cannot be read, then each is a field error', () => {
    const input = productBodyOf({ price: 'cheap', stock: '-2', attributes: 'no equals sign' }, 'USD');
    expect(Object.keys(input.fieldErrors).sort()).toEqual(['attributes', 'price.amount', 'stock']);
  });
});

describe('problem view', () => {
  it("when the API refuses fields, then the form gets each message by its field and the rest apart", () => {
    const view = problemViewOf(new AppError('validation', { issues: [{ path: 'body.price.amount', message: 'too big' }, { path: 'query.limit', message: 'bad' }] }));
    expect(view.status).toBe(400);
    expect(view.fieldErrors).toEqual({ 'price.amount': 'too big' });
    expect(view.otherErrors).toEqual(['query.limit: bad']);
  });

  it('when the error is not the platform\'s, then it is a 500 without internals', () => {
    const view = problemViewOf(new Error('secret internals'));
    expect(view.status).toBe(500);
    expect(view.detail).not.toContain('secret');
  });
});

describe('viewer', () => {
  it('when the token holds editor, then editing is offered and administering is not', () => {
    const viewer = viewerOf(tokenWith({ sub: 's', preferred_username: 'eddie', realm_access: { roles: ['editor'] } }), undefined, 'mercato-api');
    expect(viewer).toMatchObject({ signedIn: true, name: 'eddie', canEdit: true, canAdminister: false, canAudit: false, isPremium: false });
  });

  it('when there is no token, then the viewer is anonymous', () => {
    expect(viewerOf(undefined, 'x', 'mercato-api').signedIn).toBe(false);
  });
});

import { AppError, encodeCursor } from '@mercato/platform';
import { cursorOf, searchQueryParser } from '../src/domain/product-query-schema';

const parse = searchQueryParser(100);
const issuePaths = (query: Record<string, unknown>) => {
  try {
    parse(query);
  } catch (error) {
    if (error instanceof AppError) return error.issues?.map((i) => i.path) ?? [];
    throw error;
  }
  throw new Error('expected a validation error');
};

describe('the search query', () => {
  it('when nothing is asked, then active products, newest first, twenty a page', () => {
    expect(parse({})).toEqual({ attributes: {}, tags: [], statuses: ['active'], sort: 'newest', order: 'desc', limit: 20 });
  });

  it('when there is text, then relevance is the default sort; attr.<name> filters are read as lists', () => {
    const query = parse({ q: ' phone ', 'attr.color': 'red,blue', 'attr.size': 'M', tags: 'a,b', in_stock: 'true', category: '0b7c6a52-1c7e-4e8e-9a4b-2f1c3d4e5f60', subtree: 'true' });
    expect(query).toMatchObject({ q: 'phone', sort: 'relevance', order: 'desc', attributes: { color: ['red', 'blue'], size: ['M'] }, tags: ['a', 'b'], inStock: true });
    expect(query.category).toEqual({ id: '0b7c6a52-1c7e-4e8e-9a4b-2f1c3d4e5f60', subtree: true });
  });

  it('when a parameter is wrong, then the issue names it', () => {
    expect(issuePaths({ sort: 'cheapest' })).toEqual(['query.sort']);
    expect(issuePaths({ price_min: '9', price_max: '1' })).toEqual(['query.price_min']);
    expect(issuePaths({ 'attr.': 'x' })).toEqual(['query.attr.']);
    expect(issuePaths({ 'attr.color': ['red', 'blue'] })).toEqual(['query.attr.color']);
    expect(issuePaths({ tags: 'Not A Tag' })).toEqual(['query.tags']);
    expect(issuePaths({ status: 'draft,gone' })).toEqual(['query.status']);
    expect(issuePaths({ unknown: '1' })).toEqual(['query.unknown']);
    expect(issuePaths({ q: { $gt: '' } })).toEqual(['query.q']);
  });

  it("when a cursor was made for one ordering, then it reads back in that ordering and is refused in another", () => {
    const query = parse({ sort: 'price' });
    const cursor = cursorOf([1999, 'id-1'], query)!;
    expect(parse({ sort: 'price', cursor }).after).toEqual([1999, 'id-1']);
    expect(issuePaths({ sort: 'price', order: 'desc', cursor })).toEqual(['query.cursor']);
    expect(issuePaths({ sort: 'price', cursor: encodeCursor([1999, 'id-1']) })).toEqual(['query.cursor']);
  });
});

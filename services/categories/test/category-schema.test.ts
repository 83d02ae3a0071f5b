import { parseInput, type AppError } from '@mercato/platform';
import { categoryChangesSchema, categoryPageLimits, categoryPathSchema, categoryQuerySchema, newCategorySchema, slugSchema } from '../src/domain/category-schema';

const issuesWhenParsing = (parse: () => unknown) => {
  try {
    parse();
  } catch (error) {
    return (error as AppError).issues;
  }
  throw new Error('expected the input to be refused');
};

describe('category input', () => {
  it.each(['home-decoration', 'laptops', 'a1-b2'])('when the slug is %s, then it is accepted', (slug) => {
    expect(slugSchema.safeParse(slug).success).toBe(true);
  });

  it.each(['Home', 'two--hyphens', '-leading', 'trailing-', 'with space', ''])('when the slug is "%s", then it is rejected', (slug) => {
    expect(slugSchema.safeParse(slug).success).toBe(false);
  });

  it('when a new category names no parent, then it is a root with an empty description', () => {
    expect(newCategorySchema.parse({ name: 'Laptops', slug: 'laptops' })).toEqual({
      name: 'Laptops', slug: 'laptops', parentId: null, description: '',
    });
  });

  it('when a new category carries an unknown field, then it is rejected rather than silently dropped', () => {
    expect(newCategorySchema.safeParse({ name: 'x', slug: 'x', colour: 'red' }).success).toBe(false);
  });

  it('when a new category lacks its name and slug, then each is reported as required', () => {
    expect(issuesWhenParsing(() => parseInput(newCategorySchema, {}, 'body'))).toEqual([
      { path: 'body.name', message: 'required' },
      { path: 'body.slug', message: 'required' },
    ]);
  });

  it('when a name is only spaces, then it is refused as blank', () => {
    expect(issuesWhenParsing(() => parseInput(newCategorySchema, { name: '   ', slug: 'x' }, 'body'))).toEqual([
      { path: 'body.name', message: 'must not be blank' },
    ]);
  });

  it('when a name is as long as the document allows in characters outside the BMP, then it is accepted (code points count)', () => {
    expect(newCategorySchema.safeParse({ name: '😀'.repeat(120), slug: 'x' }).success).toBe(true);
    expect(newCategorySchema.safeParse({ name: '😀'.repeat(121), slug: 'x' }).success).toBe(false);
  });

  it('when a name is only a byte-order mark, then it is blank, as the documented pattern says too', () => {
    expect(newCategorySchema.safeParse({ name: '\uFEFF', slug: 'x' }).success).toBe(false);
  });

  it('when a change names no field, then it is refused with the fields one may send', () => {
    expect(issuesWhenParsing(() => parseInput(categoryChangesSchema, {}, 'body'))).toEqual([
      { path: 'body', message: 'send at least one of the fields name, slug, parentId, description' },
    ]);
  });

  it('when a path names a category by slug in any case or by id, then it is accepted lower-cased', () => {
    expect(categoryPathSchema.parse({ id: 'Laptops' })).toEqual({ id: 'laptops' });
    expect(categoryPathSchema.parse({ id: '0B7C6A52-1C7E-4E8E-9A4B-2F1C3D4E5F60' })).toEqual({ id: '0b7c6a52-1c7e-4e8e-9a4b-2f1c3d4e5f60' });
    expect(categoryPathSchema.safeParse({ id: 'not a slug' }).success).toBe(false);
  });

  it('when a list asks for more than the maximum, then it is refused naming the maximum', () => {
    const query = categoryQuerySchema(categoryPageLimits(200));
    expect(issuesWhenParsing(() => parseInput(query, { limit: '1000' }, 'query'))).toEqual([
      { path: 'query.limit', message: 'must be at most 200' },
    ]);
    expect(query.parse({})).toEqual({ limit: 50 });
    expect(query.parse({ parent: 'ROOT', limit: '10', total: 'true' })).toEqual({ parent: 'root', limit: 10, total: 'true' });
  });
});

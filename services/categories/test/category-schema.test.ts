import { categoryChangesSchema, newCategorySchema, slugSchema } from '../src/domain/category-schema';

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

  it('when a change names no field, then it is rejected', () => {
    expect(categoryChangesSchema.safeParse({}).success).toBe(false);
  });
});

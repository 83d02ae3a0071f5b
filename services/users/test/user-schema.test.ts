import { emailSchema, userListQuerySchema } from '../src/domain/user-schema';

describe('the users input rules', () => {
  it('when an e-mail address is given, then it is lower-cased; a non-address is refused', () => {
    expect(emailSchema.parse('Ada@Example.TEST')).toBe('ada@example.test');
    expect(emailSchema.safeParse(' ada@example.test').success).toBe(false);
    expect(emailSchema.safeParse('ada@').success).toBe(false);
  });

  it('when a list asks for a page and a cursor at once, then it is refused; defaults sort by creation, ascending', () => {
    expect(userListQuerySchema.safeParse({ page: '2', cursor: 'abc' }).success).toBe(false);
    expect(userListQuerySchema.parse({})).toMatchObject({ sort: 'createdAt', order: 'asc', limit: 20 });
    expect(userListQuerySchema.safeParse({ limit: '101' }).success).toBe(false);
  });
});

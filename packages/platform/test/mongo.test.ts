import { MongoServerError } from 'mongodb';
import { isDuplicateKey } from '../src/mongo';

const serverError = (code: number, errmsg: string) => new MongoServerError({ code, errmsg, message: errmsg });

describe('isDuplicateKey', () => {
  it.each([
    ['MongoDB and FerretDB inserts', 11000, 'E11000 duplicate key error collection: c.categories'],
    ['FerretDB/SQLite updates', 1, 'UNIQUE constraint failed: categories.slug (2067)'],
    ['FerretDB/PostgreSQL updates', 1, 'ERROR: duplicate key value violates unique constraint "categories_slug"'],
  ])('when %s report a unique violation, then it is recognised', (_case, code, message) => {
    expect(isDuplicateKey(serverError(code, message))).toBe(true);
  });

  it('when another internal error occurs, then it is not taken for a duplicate', () => {
    expect(isDuplicateKey(serverError(1, 'disk I/O error'))).toBe(false);
    expect(isDuplicateKey(new Error('E11000'))).toBe(false);
  });
});

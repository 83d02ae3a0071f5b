import { MongoServerError } from 'mongodb';
import { forEachInBatches, isDuplicateKey } from '../src/mongo';

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

describe('forEachInBatches', () => {
  async function* numbers(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }

  it('when the source does not fill the last batch, then the last batch is shorter and the count is exact', async () => {
    const batches: number[][] = [];
    expect(await forEachInBatches(numbers(5), 2, (batch) => void batches.push(batch))).toBe(5);
    expect(batches).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('when the source is empty, then nothing is handed over', async () => {
    const handle = jest.fn();
    expect(await forEachInBatches(numbers(0), 3, handle)).toBe(0);
    expect(handle).not.toHaveBeenCalled();
  });
});

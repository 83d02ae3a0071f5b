import { randomUUID } from 'node:crypto';
import { api, controlProcess, eventually, receivedEvents, stackInfo, tokenFor } from '@mercato/devstack';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { apiWithHeaders, type Category, type Problem, uniqueSlug } from './support';

/**
 * Races against the real platform (two replicas of the service, FerretDB): FerretDB applies a filtered update as
 * read-then-replace, so these fail without the revision-claim rule (docs/runtime.md, "Concurrency rule").
 */

interface StoredCategory extends Document {
  _id: string;
  name: string;
  slug: string;
  description: string;
  parentId: string | null;
  ancestors: string[];
  _rev?: number;
  _outbox?: Array<{ id: string }>;
  _outboxPending?: boolean;
}

/** Claims and the tree's meta document: any document with a string id. */
interface Row extends Document {
  _id: string;
}

const problem = (code: string) => `https://mercato.dev/problems/${code}`;

let client: MongoClient;
let categories: Collection<StoredCategory>;
let revisions: Collection<Row>;
let tree: Collection<Row>;

beforeAll(async () => {
  client = new MongoClient(stackInfo().mongodbUri, { serverSelectionTimeoutMS: 5000 });
  const db = client.db('categories');
  categories = db.collection<StoredCategory>('categories');
  revisions = db.collection<Row>('categories_revisions');
  tree = db.collection<Row>('categories_tree_revisions');
});

afterAll(async () => {
  await client.close();
});

async function create(body: { name: string; slug: string; parentId?: string }): Promise<Category> {
  const response = await api<Category>('POST', '/api/categories', { token: await tokenFor('editor'), body });
  expect(response.status).toBe(201);
  return response.body;
}

async function patch(ref: string, body: object) {
  return api<Category & Problem>('PATCH', `/api/categories/${ref}`, { token: await tokenFor('editor'), body });
}

const stored = async (id: string) => (await categories.findOne({ _id: id }))!;

/** A subtree A → C → D → E plus a root B, and the state a crash half-way through "move C under B" leaves. */
async function halfFinishedMove() {
  const a = await create({ name: 'A', slug: uniqueSlug('crash-a') });
  const b = await create({ name: 'B', slug: uniqueSlug('crash-b') });
  const c = await create({ name: 'C', slug: uniqueSlug('crash-c'), parentId: a.id });
  const d = await create({ name: 'D', slug: uniqueSlug('crash-d'), parentId: c.id });
  const e = await create({ name: 'E', slug: uniqueSlug('crash-e'), parentId: d.id });

  // The mover claimed the next tree revision, wrote C and D, and died before E and before marking the change complete.
  const meta = await tree.findOne({ _id: 'tree' });
  const next = Number(meta?.['rev'] ?? 0) + 1;
  await tree.insertOne({
    _id: `tree:${next}`,
    intent: { op: 'move', id: c.id, parentId: b.id },
    at: new Date(Date.now() - 60_000),
    token: randomUUID(),
  });
  await categories.updateOne({ _id: c.id }, { $set: { parentId: b.id, ancestors: [b.id] }, $inc: { _rev: 1 } });
  await categories.updateOne({ _id: d.id }, { $set: { ancestors: [b.id, c.id] }, $inc: { _rev: 1 } });
  expect((await stored(e.id)).ancestors).toEqual([a.id, c.id, d.id]);
  return { a, b, c, d, e, claimId: `tree:${next}` };
}

describe('concurrent writes through revision claims (real FerretDB, two service replicas)', () => {
  it('when two PATCHes change different fields of one category at once, then both changes survive, every time', async () => {
    const category = await create({ name: 'Racing', slug: uniqueSlug('race') });
    for (let round = 0; round < 20; round += 1) {
      const [described, renamed] = await Promise.all([
        patch(category.id, { description: `description ${round}` }),
        patch(category.id, { name: `name ${round}` }),
      ]);
      expect([described.status, renamed.status]).toEqual([200, 200]);
      const doc = await stored(category.id);
      expect({ round, name: doc.name, description: doc.description }).toEqual({
        round,
        name: `name ${round}`,
        description: `description ${round}`,
      });
    }
  }, 120_000);

  it('when many PATCHes and their outbox clean-ups race, then no clean-up undoes a change and every event is published', async () => {
    const category = await create({ name: 'Busy', slug: uniqueSlug('busy') });
    const base = category.slug;
    const rounds = 8;
    // Three lanes change three fields, each lane one request after the other; the lanes run at the same time.
    const lane = async (field: 'name' | 'description' | 'slug') => {
      const statuses: number[] = [];
      for (let i = 1; i <= rounds; i += 1) {
        const value = field === 'slug' ? `${base}-v${i}` : `${field} ${i}`;
        statuses.push((await patch(category.id, { [field]: value })).status);
      }
      return statuses;
    };
    const statuses = (await Promise.all([lane('name'), lane('description'), lane('slug')])).flat();
    expect(statuses.every((status) => status === 200)).toBe(true);

    // Once every clean-up (the request's own and the relay's) has run, the last value of every lane is still there.
    const settled = await eventually(() => stored(category.id), (doc) => doc._outboxPending === false, 30_000);
    expect(settled._outbox).toEqual([]);
    expect({ name: settled.name, description: settled.description, slug: settled.slug }).toEqual({
      name: `name ${rounds}`,
      description: `description ${rounds}`,
      slug: `${base}-v${rounds}`,
    });

    const updatesOf = (all: Awaited<ReturnType<typeof receivedEvents>>) =>
      new Set(all.filter((e) => e.type === 'catalog.category.updated' && e.subject === category.id).map((e) => e.id));
    const published = await eventually(receivedEvents, (all) => updatesOf(all).size >= rounds * 3, 30_000);
    expect(updatesOf(published).size).toBe(rounds * 3);
  }, 120_000);

  it('when A is moved under B and B under A at the same time, then one answers 200, the other 422, and no cycle forms', async () => {
    for (let round = 0; round < 10; round += 1) {
      const a = await create({ name: `A${round}`, slug: uniqueSlug('opposing-a') });
      const b = await create({ name: `B${round}`, slug: uniqueSlug('opposing-b') });
      const [aUnderB, bUnderA] = await Promise.all([patch(a.id, { parentId: b.id }), patch(b.id, { parentId: a.id })]);
      const statuses = [aUnderB.status, bUnderA.status].sort();
      expect({ round, statuses }).toEqual({ round, statuses: [200, 422] });
      const refused = aUnderB.status === 422 ? aUnderB : bUnderA;
      expect(refused.body.type).toBe(problem('category-cycle'));

      const [storedA, storedB] = await Promise.all([stored(a.id), stored(b.id)]);
      expect(storedA.ancestors.includes(b.id) && storedB.ancestors.includes(a.id)).toBe(false);
      if (aUnderB.status === 200) expect([storedA.parentId, storedA.ancestors, storedB.parentId]).toEqual([b.id, [b.id], null]);
      else expect([storedB.parentId, storedB.ancestors, storedA.parentId]).toEqual([a.id, [a.id], null]);
    }
  }, 180_000);

  it('when a subtree move stopped half-way (a crash), then the next structural change repairs the stale ancestors first', async () => {
    const { a, b, c, d, e, claimId } = await halfFinishedMove();

    const sibling = await create({ name: 'F', slug: uniqueSlug('crash-f'), parentId: a.id });
    expect(sibling.ancestors).toEqual([a.id]);

    expect((await stored(e.id)).ancestors).toEqual([b.id, c.id, d.id]);
    expect((await stored(d.id)).ancestors).toEqual([b.id, c.id]);
    const meta = await tree.findOne({ _id: 'tree' });
    expect(Number(meta?.['rev'])).toBeGreaterThanOrEqual(Number(claimId.split(':')[1]));
  }, 60_000);

  it('when a subtree move stopped half-way and the service restarts, then the start-up repairs the stale ancestors', async () => {
    const { b, c, d, e } = await halfFinishedMove();
    const replicated = (stackInfo() as { replicas?: Record<string, unknown[]> }).replicas?.['categories'];
    const name = replicated ? 'categories-1' : 'categories';
    await controlProcess(name, 'stop');
    await controlProcess(name, 'start');

    const repaired = await eventually(() => stored(e.id), (doc) => doc.ancestors.length === 3 && doc.ancestors[0] === b.id, 45_000);
    expect(repaired.ancestors).toEqual([b.id, c.id, d.id]);
  }, 90_000);

  it('when a writer crashed between its claim and its write, then the next writer rolls the claimed change forward', async () => {
    const category = await create({ name: 'Interrupted', slug: uniqueSlug('interrupted') });
    const before = await stored(category.id);
    const rev = before._rev ?? 0;
    // The claim a crashed writer left: the full next image, never written to the document.
    await revisions.insertOne({
      _id: `${category.id}:${rev + 1}`,
      doc: { ...before, description: 'written by a writer that crashed', _rev: rev + 1 },
      at: new Date(Date.now() - 60_000),
      token: randomUUID(),
    });

    const renamed = await patch(category.id, { name: 'Renamed after the crash' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Renamed after the crash', description: 'written by a writer that crashed' });
    const doc = await stored(category.id);
    expect([doc.name, doc.description]).toEqual(['Renamed after the crash', 'written by a writer that crashed']);
    // Rolled forward (rev + 1), renamed (rev + 2), and possibly its event cleaned up since (rev + 3).
    expect(doc._rev).toBeGreaterThanOrEqual(rev + 2);
    // The repairer's marker is gone with the repair.
    expect(await revisions.countDocuments({ _id: { $regex: `^${category.id}:\\d+:repair:` } })).toBe(0);
  });

  it('when many PATCHes carry the same If-Match at once, then exactly one wins, the rest get 412, and only its change is stored', async () => {
    const writers = 8;
    for (let round = 0; round < 3; round += 1) {
      const category = await create({ name: `Contested ${round}`, slug: uniqueSlug('if-match-race') });
      const editor = await tokenFor('editor');
      // Through the ingress, so the requests spread over both replicas.
      const answers = await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          apiWithHeaders<Category & Problem>('PATCH', `/api/categories/${category.id}`, {
            token: editor, headers: { 'if-match': `"${category.version}"` }, body: { description: `writer ${i}` },
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect({ round, statuses }).toEqual({ round, statuses: [200, ...Array<number>(writers - 1).fill(412)] });
      expect(answers.filter((a) => a.status === 412).every((a) => a.body.type === problem('stale-version'))).toBe(true);
      const winner = answers.find((answer) => answer.status === 200)!;
      const doc = await stored(category.id);
      expect({ round, description: doc.description, version: doc['version'] }).toEqual({ round, description: winner.body.description, version: 2 });
      expect(winner.headers.get('etag')).toBe('"2"');
    }
  }, 120_000);

  it('when a rename hits a taken slug, then 409 and its claim is rolled back, so the next write is not held up', async () => {
    const taken = await create({ name: 'Taken', slug: uniqueSlug('taken') });
    const other = await create({ name: 'Other', slug: uniqueSlug('other') });
    const refused = await patch(other.id, { slug: taken.slug });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe(problem('duplicate-slug'));
    const rev = (await stored(other.id))._rev ?? 0;
    expect(await revisions.findOne({ _id: `${other.id}:${rev + 1}` })).toBeNull();
    expect((await patch(other.id, { name: 'Still writable' })).status).toBe(200);
  });
});

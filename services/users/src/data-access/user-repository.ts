import {
  changedWithEvent,
  createUniqueKeys,
  defaultRevisionOptions,
  deletedWithEvent,
  escapeRegex,
  findLiveById,
  isDatabaseUnavailable,
  live,
  outboxIndex,
  revised,
  withEvent,
  withoutOutbox,
  type CloudEvent,
  type EventPublisher,
  type IndexPlan,
  type OutboxFields,
  type RevisionOptions,
} from '@mercato/platform';
import { MongoError, MongoServerError, type Db, type Filter, type Sort } from 'mongodb';
import type { Identity, User, UserListQuery } from '../domain/user-schema';

/**
 * Users in MongoDB under the platform's concurrency rule, with their events in the same write (outbox). Two values must
 * be unique across users and are kept as keys whose `_id` is the value (platform `unique-keys.ts`): the e-mail address
 * (`users_emails`) and each external identity (`users_identities`, `<issuer> <subject>`: FerretDB enforces no unique
 * index on array elements). A key is held before the user is written with it and freed after the user no longer has it.
 */
interface UserDocument extends OutboxFields {
  _id: string;
  email: string;
  name: string;
  /** Lower-cased name, for the case-insensitive prefix filter and sort. */
  nameKey: string;
  status: User['status'];
  customerNumber: number;
  identities: Identity[];
  login: User['login'];
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

const collectionName = 'users';

export const userIndexes: IndexPlan = {
  [collectionName]: [
    { key: { email: 1 }, name: 'email' },
    { key: { nameKey: 1, _id: 1 }, name: 'name_key' },
    { key: { createdAt: 1, _id: 1 }, name: 'created_at' },
    { key: { customerNumber: 1 }, name: 'customer_number', unique: true },
    outboxIndex,
  ],
};

export const identityKeyOf = (identity: Identity) => `${identity.issuer} ${identity.subject}`;

export type WriteOutcome = { ok: true; user: User } | { ok: false; reason: 'not-found' | 'duplicate-email' | 'identity-taken' };

export interface UserDecision {
  next: User;
  event: CloudEvent;
}

export interface UserRepository {
  insert(user: User, event: CloudEvent): Promise<WriteOutcome>;
  findById(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  findByIdentity(identity: Identity): Promise<User | undefined>;
  /** Writes what `decide` computes from the current user; `decide` may run again and may throw. */
  update(id: string, decide: (current: User) => UserDecision): Promise<WriteOutcome>;
  delete(id: string, describe: (current: User) => CloudEvent): Promise<User | undefined>;
  /** One page in the query's order: `limit` users after `after` (cursor) or after skipping `skip` (page). */
  list(query: UserListQuery, position: { after?: readonly [string | number, string]; skip?: number }, limit: number): Promise<User[]>;
  count(query: UserListQuery): Promise<number>;
}

const toUser = (doc: UserDocument): User => ({
  id: doc._id,
  email: doc.email,
  name: doc.name,
  status: doc.status,
  customerNumber: doc.customerNumber,
  identities: doc.identities,
  login: doc.login,
  createdAt: doc.createdAt.toISOString(),
  updatedAt: doc.updatedAt.toISOString(),
  version: doc.version,
});

const fieldsOf = (user: User) => ({
  email: user.email,
  name: user.name,
  nameKey: user.name.toLowerCase(),
  status: user.status,
  customerNumber: user.customerNumber,
  identities: user.identities,
  login: user.login,
  createdAt: new Date(user.createdAt),
  updatedAt: new Date(user.updatedAt),
  version: user.version,
});

/** The field a sort reads, as stored. */
export const sortField = { name: 'nameKey', email: 'email', createdAt: 'createdAt' } as const;

/** Nothing was written: the server refused, or the write was never sent. After a lost connection it is open. */
const isDefinite = (error: unknown) => !(error instanceof MongoError) || (error instanceof MongoServerError && !isDatabaseUnavailable(error));

export function createUserRepository(db: Db, events: EventPublisher, revisions: RevisionOptions = defaultRevisionOptions): UserRepository {
  const store = revised<UserDocument>(db, collectionName, revisions);
  const users = store.collection;
  events.watch(store);
  const holder = (id: string) => findLiveById(users, id);
  const emails = createUniqueKeys(db, 'users_emails', async (id, email) => (await holder(id))?.email === email, revisions);
  const identities = createUniqueKeys(
    db,
    'users_identities',
    async (id, key) => ((await holder(id))?.identities ?? []).some((identity) => identityKeyOf(identity) === key),
    revisions,
  );

  /** Holds every key `next` needs that `before` did not have; on a refusal frees what it took and says which. */
  async function holdKeys(next: User, before: User | undefined): Promise<'duplicate-email' | 'identity-taken' | undefined> {
    const taken: Array<() => Promise<void>> = [];
    const undo = async () => {
      for (const release of taken) await release();
    };
    if (next.email !== before?.email) {
      if ((await emails.acquire(next.email, next.id)) === 'taken') return 'duplicate-email';
      taken.push(() => emails.release(next.email, next.id));
    }
    const had = new Set((before?.identities ?? []).map(identityKeyOf));
    for (const key of next.identities.map(identityKeyOf).filter((key) => !had.has(key))) {
      if ((await identities.acquire(key, next.id)) === 'taken') {
        await undo();
        return 'identity-taken';
      }
      taken.push(() => identities.release(key, next.id));
    }
    return undefined;
  }

  /** Frees the keys `before` had that `after` (undefined: deleted) no longer has. */
  async function freeKeys(before: User, after: User | undefined): Promise<void> {
    if (before.email !== after?.email) await emails.release(before.email, before.id);
    const kept = new Set((after?.identities ?? []).map(identityKeyOf));
    for (const key of before.identities.map(identityKeyOf).filter((key) => !kept.has(key))) await identities.release(key, before.id);
  }

  function filterOf(query: UserListQuery, after?: readonly [string | number, string]): Filter<UserDocument> {
    const and: Filter<UserDocument>[] = [live as Filter<UserDocument>];
    if (query.status) and.push({ status: query.status });
    if (query.email) and.push({ email: query.email });
    if (query.name) and.push({ nameKey: { $regex: `^${escapeRegex(query.name.toLowerCase())}` } });
    if (after) {
      const field = sortField[query.sort];
      const value = query.sort === 'createdAt' ? new Date(after[0]) : after[0];
      const beyond = query.order === 'asc' ? '$gt' : '$lt';
      and.push({ $or: [{ [field]: { [beyond]: value } }, { [field]: value, _id: { [beyond]: after[1] } }] } as Filter<UserDocument>);
    }
    return { $and: and };
  }

  return {
    async insert(user, event) {
      const refused = await holdKeys(user, undefined);
      if (refused) return { ok: false, reason: refused };
      let stored: UserDocument;
      try {
        stored = await store.insert({ _id: user.id, ...fieldsOf(user), ...withEvent(event) });
      } catch (error) {
        if (isDefinite(error)) await freeKeys(user, undefined);
        throw error;
      }
      await events.deliver(store, user.id, stored);
      return { ok: true, user };
    },

    async findById(id) {
      const doc = await findLiveById(users, id);
      return doc ? toUser(doc) : undefined;
    },

    async findByEmail(email) {
      const id = await emails.ownerOf(email);
      const user = id ? await this.findById(id) : undefined;
      // The user decides: a key naming a user who no longer has the address is an orphan.
      return user?.email === email ? user : undefined;
    },

    async findByIdentity(identity) {
      const key = identityKeyOf(identity);
      const id = await identities.ownerOf(key);
      const user = id ? await this.findById(id) : undefined;
      return user?.identities.some((held) => identityKeyOf(held) === key) ? user : undefined;
    },

    async update(id, decide) {
      const before = await findLiveById(users, id);
      if (!before) return { ok: false, reason: 'not-found' };
      // The keys the next image needs, from the current user: held before the write, freed if it does not happen.
      const planned = decide(toUser(before)).next;
      const refused = await holdKeys(planned, toUser(before));
      if (refused) return { ok: false, reason: refused };
      let written: User | undefined;
      let stored: UserDocument | undefined;
      let previous = toUser(before);
      try {
        const result = await store.write(id, (current) => {
          if (current._deleted) return undefined;
          previous = toUser(current);
          const { next, event } = decide(previous);
          written = next;
          return changedWithEvent(current, fieldsOf(next), event);
        });
        if (result.status === 'written') stored = result.doc;
        else written = undefined;
      } catch (error) {
        if (isDefinite(error)) await freeKeys(planned, toUser(before));
        throw error;
      }
      if (!written) {
        await freeKeys(planned, toUser(before));
        return { ok: false, reason: 'not-found' };
      }
      await events.deliver(store, id, stored);
      await freeKeys(previous, written);
      return { ok: true, user: written };
    },

    async delete(id, describe) {
      let deleted: User | undefined;
      const result = await store.write(id, (current) => {
        if (current._deleted) return undefined;
        deleted = toUser(current);
        return deletedWithEvent(current, describe(deleted));
      });
      if (result.status !== 'written' || !deleted) return undefined;
      await events.deliver(store, id, result.doc);
      await freeKeys(deleted, undefined);
      return deleted;
    },

    async list(query, position, limit) {
      const direction = query.order === 'asc' ? 1 : -1;
      const sort: Sort = { [sortField[query.sort]]: direction, _id: direction };
      const cursor = users.find(filterOf(query, position.after), { projection: withoutOutbox }).sort(sort);
      if (position.skip) cursor.skip(position.skip);
      return (await cursor.limit(limit).toArray()).map(toUser);
    },

    count: (query) => users.countDocuments(filterOf(query)),
  };
}

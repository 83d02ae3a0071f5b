import { randomUUID } from 'node:crypto';
import { AppError, maxActivityUserIdLength, pageOf, pageRequestOf, staleVersion, type EventPublisher, type Logger, type Page, type UserActivityClient, type UserActivityStats } from '@mercato/platform';
import type { CustomerNumbers } from '../data-access/customer-numbers';
import type { KeycloakAccounts } from '../data-access/keycloak-accounts';
import type { UserRepository, WriteOutcome } from '../data-access/user-repository';
import type { Identity, NewUser, User, UserChanges, UserListQuery } from './user-schema';

export const userEvents = {
  created: 'customer.account.created',
  identityLinked: 'customer.identity.linked',
  updated: 'customer.account.updated',
  deactivated: 'customer.account.deactivated',
  reactivated: 'customer.account.reactivated',
  deleted: 'customer.account.deleted',
} as const;

/** Who asks: their identity (issuer + subject, from the token), whether they are an admin, and the token's profile. */
export interface Caller {
  identity: Identity;
  isAdmin: boolean;
  profile: { email: string | undefined; emailVerified: boolean; name: string | undefined };
}

export interface UserUseCases {
  create(input: NewUser, actor: string): Promise<User>;
  /** The caller's own profile, made from their token on the first call and linked to their identity. */
  me(caller: Caller): Promise<User>;
  get(id: string, caller: Caller): Promise<User>;
  update(id: string, changes: UserChanges, caller: Caller, requiredVersion?: number): Promise<User>;
  linkIdentity(id: string, identity: Identity, actor: string): Promise<User>;
  setStatus(id: string, status: User['status'], actor: string): Promise<User>;
  remove(id: string, actor: string, requiredVersion?: number): Promise<void>;
  /** The caller's activity: what their `UserActivity` actor counted (docs/actors.md). */
  myStats(caller: Caller): Promise<UserActivityStats>;
  /** A user's activity (admin): the actor of their identity in the platform's realm; empty when they never signed in. */
  statsOf(id: string): Promise<UserActivityStats>;
  /** A numbered page (with `total`) or a cursor page, in the query's order. */
  list(query: UserListQuery): Promise<Page<User> & { page?: number }>;
}

/** The sort key a cursor resumes after, as stored (names compare lower-cased). */
const sortValueOf = (user: User, sort: UserListQuery['sort']): string =>
  sort === 'name' ? user.name.toLowerCase() : sort === 'email' ? user.email : user.createdAt;

const cursorForOtherOrder = () =>
  new AppError('validation', {
    code: 'invalid-cursor',
    detail: 'The cursor belongs to another sort or order; start again without a cursor',
    issues: [{ path: 'query.cursor', message: 'was issued for another sort or order' }],
  });

const notFound = (id: string) => new AppError('not-found', { code: 'user-not-found', detail: `No user has the id ${id}` });
const duplicateEmail = () => new AppError('conflict', { code: 'duplicate-email', detail: 'Another user has this e-mail address' });
const identityTaken = () => new AppError('conflict', { code: 'identity-taken', detail: 'Another user is linked to this identity' });

/**
 * What events say about a person: ids and numbers, never the e-mail address or the name. The audit log keeps events
 * for good; personal data in them would outlive the person's erasure (docs/users.md#erasure).
 */
const eventData = (user: User) => ({ id: user.id, customerNumber: user.customerNumber, status: user.status, version: user.version });

export function createUserUseCases(deps: {
  repository: UserRepository;
  events: EventPublisher;
  customerNumbers: CustomerNumbers;
  accounts: KeycloakAccounts;
  activity: UserActivityClient;
  issuer: string;
  logger: Logger;
}): UserUseCases {
  const { repository, events, accounts, logger } = deps;

  const refusal = (outcome: Exclude<WriteOutcome, { ok: true }>, id: string) =>
    outcome.reason === 'duplicate-email' ? duplicateEmail() : outcome.reason === 'identity-taken' ? identityTaken() : notFound(id);

  async function mustFind(id: string): Promise<User> {
    const user = await repository.findById(id);
    if (!user) throw notFound(id);
    return user;
  }

  /** A person may see and change their own profile only; an admin everyone's. */
  function mustBeVisible(user: User, caller: Caller): User {
    if (!caller.isAdmin && !user.identities.some((held) => held.issuer === caller.identity.issuer && held.subject === caller.identity.subject)) {
      throw new AppError('forbidden', { code: 'not-your-profile', detail: 'You may read and change your own profile only' });
    }
    return user;
  }

  const visibleTo = async (id: string, caller: Caller): Promise<User> => mustBeVisible(await mustFind(id), caller);

  async function insertNew(fields: { email: string; name: string; identities: Identity[]; login: User['login'] }, actor: string): Promise<User> {
    const now = new Date().toISOString();
    const user: User = {
      id: randomUUID(),
      ...fields,
      status: 'active',
      customerNumber: await deps.customerNumbers.next(),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const event = events.describe({ type: userEvents.created, subject: user.id, data: eventData(user), actor });
    const outcome = await repository.insert(user, event);
    if (!outcome.ok) throw refusal(outcome, user.id);
    return user;
  }

  /** `caller`, when given, must be allowed to see the user: checked first, on the user as the write reads it. */
  async function write(id: string, actor: string, required: number | undefined, change: (current: User) => User, type: string, caller?: Caller): Promise<User> {
    const outcome = await repository.update(id, (current) => {
      if (caller) mustBeVisible(current, caller);
      if (required !== undefined && required !== current.version) throw staleVersion('The user', required, current.version);
      const next = { ...change(current), updatedAt: new Date().toISOString(), version: current.version + 1 };
      return { next, event: events.describe({ type, subject: id, data: eventData(next), actor }) };
    });
    if (!outcome.ok) throw refusal(outcome, id);
    return outcome.user;
  }

  return {
    async create(input, actor) {
      if (await repository.findByEmail(input.email)) throw duplicateEmail();
      // The login first: if Keycloak refuses or fails, nothing is stored; if storing the user then fails, the login goes.
      let login: User['login'] = null;
      if (input.login) {
        const accountId = await accounts.create({ ...input.login, email: input.email, name: input.name });
        login = { username: input.login.username, accountId };
      }
      const issuerIdentity = login ? [{ issuer: deps.issuer, subject: login.accountId }] : [];
      try {
        return await insertNew({ email: input.email, name: input.name, identities: issuerIdentity, login }, actor);
      } catch (error) {
        if (login) {
          await accounts.remove(login.accountId).catch((cause: unknown) =>
            logger.error('a login made for a user that was not stored could not be removed', { accountId: login.accountId, error: String(cause) }),
          );
        }
        throw error;
      }
    },

    async me(caller) {
      const linked = await repository.findByIdentity(caller.identity);
      if (linked) return linked;
      const { email, emailVerified, name } = caller.profile;
      if (!email) {
        throw new AppError('unprocessable', { code: 'token-without-email', detail: 'Your token carries no e-mail address, so no profile can be made from it' });
      }
      const existing = await repository.findByEmail(email.toLowerCase());
      if (existing) {
        // Only a verified address may claim a profile made for it (by an admin, say); anyone can type an address.
        if (!emailVerified) throw duplicateEmail();
        return this.linkIdentity(existing.id, caller.identity, caller.identity.subject);
      }
      try {
        return await insertNew({ email: email.toLowerCase(), name: name ?? email, identities: [caller.identity], login: null }, caller.identity.subject);
      } catch (error) {
        // Two first calls at once: the other one made the profile.
        if (error instanceof AppError && error.code === 'identity-taken') {
          const made = await repository.findByIdentity(caller.identity);
          if (made) return made;
        }
        throw error;
      }
    },

    get: (id, caller) => visibleTo(id, caller),

    // Checked on the user the write reads, not on a read of its own before it: a PATCH already reads the user twice
    // (to plan its unique keys, then under the revision rule), and on FerretDB every command costs about a
    // millisecond of its CPU (docs/runtime.md, the users benchmark).
    update: (id, changes, caller, required) =>
      write(id, caller.identity.subject, required, (current) => ({ ...current, ...changes }), userEvents.updated, caller),

    async linkIdentity(id, identity, actor) {
      const current = await mustFind(id);
      if (current.identities.some((held) => held.issuer === identity.issuer && held.subject === identity.subject)) return current;
      const outcome = await repository.update(id, (user) => {
        const next = { ...user, identities: [...user.identities, identity], updatedAt: new Date().toISOString(), version: user.version + 1 };
        // The identity itself is not in the event: it is personal data (docs/users.md#erasure).
        return { next, event: events.describe({ type: userEvents.identityLinked, subject: id, data: { ...eventData(next), issuer: identity.issuer }, actor }) };
      });
      if (!outcome.ok) throw refusal(outcome, id);
      return outcome.user;
    },

    async setStatus(id, status, actor) {
      const current = await mustFind(id);
      if (current.status === status) return current;
      // Keycloak first: a deactivated user whose login still works would be worse than a failed request to retry.
      if (current.login) await accounts.setEnabled(current.login.accountId, status === 'active');
      return write(id, actor, undefined, (user) => ({ ...user, status }), status === 'active' ? userEvents.reactivated : userEvents.deactivated);
    },

    // The actor is keyed by the person's `sub` in the platform's realm: every service knows it from the token alone,
    // without asking the users service who the caller is.
    myStats: (caller) => deps.activity.stats(caller.identity.subject),

    async statsOf(id) {
      const user = await mustFind(id);
      // An identity correlated by hand may name a subject no sign-in of this realm can have (longer than any actor
      // id): that person has never been counted.
      const signIn = user.identities.find((identity) => identity.issuer === deps.issuer && identity.subject.length <= maxActivityUserIdLength);
      if (signIn) return deps.activity.stats(signIn.subject);
      return { lastSeen: null, currentMinute: {}, today: {}, days: {}, rolledUpAt: null, pendingMinutes: {}, queries: {}, topQueries: {} };
    },

    async list(query) {
      if (query.page !== undefined) {
        const [items, total] = await Promise.all([
          repository.list(query, { skip: (query.page - 1) * query.limit }, query.limit),
          repository.count(query),
        ]);
        return { items, nextCursor: null, total, page: query.page };
      }
      // The cursor carries its sort and order: resumed under another ordering it would skip or repeat users.
      const request = pageRequestOf(query, 4);
      const [sort, order, value, id] = request.after ?? [];
      if (request.after && (sort !== query.sort || order !== query.order)) throw cursorForOtherOrder();
      const after = request.after ? ([value as string, id as string] as const) : undefined;
      const fetched = await repository.list(query, after ? { after } : {}, query.limit + 1);
      const total = request.withTotal ? await repository.count(query) : undefined;
      return pageOf(fetched, request, (user) => [query.sort, query.order, sortValueOf(user, query.sort), user.id], total);
    },

    async remove(id, actor, required) {
      const current = await mustFind(id);
      if (required !== undefined && required !== current.version) throw staleVersion('The user', required, current.version);
      if (current.login) await accounts.remove(current.login.accountId);
      const deleted = await repository.delete(id, (user) =>
        events.describe({ type: userEvents.deleted, subject: id, data: { id, customerNumber: user.customerNumber, version: user.version + 1 }, actor }),
      );
      if (!deleted) throw notFound(id);
    },
  };
}

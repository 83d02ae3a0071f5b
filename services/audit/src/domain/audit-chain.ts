import { createHash } from 'node:crypto';
import { canonicalizeEx } from 'json-canonicalize';

/** A stored audit event as read back from the database: a plain JSON object with `_id` (the event id). */
export type StoredEvent = { _id: string } & Record<string, unknown>;

/** One link: `_id` = `${chain}:${position}`, positions 1, 2, 3, … with no gaps. */
export interface ChainEntry {
  _id: string;
  chain: string;
  position: number;
  eventId: string;
  prevHash: string;
  hash: string;
}

/** A signed statement "chain C had hash H at position P", CloudTrail-digest style; chained to the previous one. */
export interface Checkpoint {
  /** `${chain}:${position}` */
  _id: string;
  chain: string;
  position: number;
  hash: string;
  /** ISO 8601 time of signing. */
  at: string;
  /** The checkpoint before this one on the same chain; null for the chain's first. */
  previous: { position: number; hash: string } | null;
  keyId: string;
  /** base64 Ed25519 signature over the canonical JSON of every other field. */
  signature: string;
}

/** The prevHash of position 1. */
export const genesisHash = '0'.repeat(64);

export const entryIdOf = (chain: string, position: number): string => `${chain}:${position}`;

/**
 * RFC 8785 canonical JSON. `undefined` is refused rather than dropped: the MongoDB driver stores an undefined field as
 * null, so an event hashed with the field left out would read back as a different document and fail verification
 * for no tampering at all. Refusing it at append time makes the writer strip it before storing.
 */
export function canonicalJson(value: unknown): string {
  return canonicalizeEx(value, { strictUndefined: true });
}

/** hex SHA-256(prevHash ‖ canonicalJson(event)), both as UTF-8. */
export function linkHash(prevHash: string, event: StoredEvent): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(event)).digest('hex');
}

const sha256Hex = /^[0-9a-f]{64}$/;

/**
 * Links for events appended after `tail` (undefined = empty chain), in order. The events must be the documents exactly
 * as stored (what verification will read back), each stored once: an event id twice in one batch is a bug upstream
 * (a duplicate must never take a position), so it is refused rather than chained.
 */
export function appendLinks(chain: string, tail: { position: number; hash: string } | undefined, events: StoredEvent[]): ChainEntry[] {
  if (tail && (!Number.isSafeInteger(tail.position) || tail.position < 1 || !sha256Hex.test(tail.hash))) {
    throw new Error(`appendLinks: the tail of chain ${chain} is not a position ≥ 1 with a SHA-256 hex hash: ${JSON.stringify(tail)}`);
  }
  const seen = new Set<string>();
  let position = tail?.position ?? 0;
  let prevHash = tail?.hash ?? genesisHash;
  return events.map((event) => {
    if (seen.has(event._id)) throw new Error(`appendLinks: event ${event._id} appears twice in one append to chain ${chain}`);
    seen.add(event._id);
    position += 1;
    const hash = linkHash(prevHash, event);
    const entry: ChainEntry = { _id: entryIdOf(chain, position), chain, position, eventId: event._id, prevHash, hash };
    prevHash = hash;
    return entry;
  });
}

export type ChainBreakKind =
  | 'event-edited'
  | 'event-removed'
  | 'entry-removed'
  | 'reordered'
  | 'tail-cut'
  | 'checkpoint-mismatch'
  | 'checkpoint-forged';

export interface ChainBreak {
  position: number;
  kind: ChainBreakKind;
  eventId?: string;
  detail: string;
}

export interface ChainVerificationReport {
  chain: string;
  from: number;
  to: number;
  /** Positions given to the verifier (present or missing). */
  checked: number;
  ok: boolean;
  firstBreak?: ChainBreak;
  checkpoints: {
    checked: number;
    /** The last checkpoint whose signature and `previous` verified and whose hash matched the chain. */
    latest?: Pick<Checkpoint, 'position' | 'hash' | 'at' | 'keyId'>;
    /**
     * Entries after `latest` (or after `from - 1` when there is none): consistent as far as the links go, but not yet
     * covered by a signature, so someone with database access could have recomputed them without it showing.
     */
    unsealed: number;
  };
}

export interface ChainVerifierOptions {
  chain: string;
  /** First position to verify, ≥ 1. */
  from: number;
  /**
   * Position `from - 1` and its entry's hash; undefined when from = 1 (the genesis hash is the anchor then). Left
   * undefined for from > 1 (that entry is gone), the first entry's prevHash is taken as given.
   */
  anchor: { position: number; hash: string } | undefined;
  /** Signature check, from `createCheckpointVerifier`. */
  isValidCheckpoint: (checkpoint: Checkpoint) => boolean;
}

/**
 * Feed it in position order:
 * - `entry(position, entry, event)` for every position from `from`, one after the other; `entry` undefined when no
 *   entry is stored at that position, `event` undefined when the entry's event is not found;
 * - `checkpoint(cp)` for each checkpoint, ascending, each right AFTER its position's entry (entry(P), checkpoint(P),
 *   entry(P + 1)). Checkpoints beyond the last position given come last, before `finish` (that is how a cut-off tail
 *   shows). Checkpoints before the range may come first, before any entry: they are checked for their signature and
 *   give the first in-range checkpoint its `previous` to match;
 * - `finish(lastPosition)` with the last position given (or a later one: positions after are taken as absent).
 * It holds one entry's worth of state, so a million entries verify in linear time and constant memory. Handing things
 * over out of order is a bug in the caller and throws.
 */
export interface ChainVerifier {
  entry(position: number, entry: ChainEntry | undefined, event: StoredEvent | undefined): void;
  checkpoint(checkpoint: Checkpoint): void;
  finish(lastPosition: number): ChainVerificationReport;
  /** True once the first break and its detail are final: the caller may stop paging and call `finish`. */
  readonly settled: boolean;
}

/** Watches the entries after a break to finish its detail (e.g. where the swapped entry went); true when done. */
type FollowUp = { onEntry(position: number, entry: ChainEntry): boolean; onFinish(): void };

export function createChainVerifier(options: ChainVerifierOptions): ChainVerifier {
  const { chain, from, anchor, isValidCheckpoint } = options;
  if (!Number.isSafeInteger(from) || from < 1) throw new Error(`chain verifier: from must be an integer ≥ 1, got ${from}`);
  if (from === 1 && anchor) throw new Error('chain verifier: from = 1 starts at the genesis hash and takes no anchor');
  if (anchor && anchor.position !== from - 1) {
    throw new Error(`chain verifier: the anchor must be position ${from - 1}, got ${anchor.position}`);
  }

  /** The last entry present (or the anchor): its position and stored hash; hash undefined when it is not known. */
  let current: { position: number; hash: string | undefined } = from === 1 ? { position: 0, hash: genesisHash } : { position: from - 1, hash: anchor?.hash };
  let lastGiven = from - 1;
  let checked = 0;
  /** First position of a run of missing entries; a gap once an entry shows up after it, else the chain's end. */
  let gapStart: number | undefined;

  let firstBreak: ChainBreak | undefined;
  let followUp: FollowUp | undefined;

  let checkpointsChecked = 0;
  let lastCheckpoint: { position: number; hash: string } | null | undefined = from === 1 ? null : undefined;
  let latest: ChainVerificationReport['checkpoints']['latest'];
  /** The first valid checkpoint past the last entry present: evidence of a cut tail unless entries resume. */
  let beyondEntries: Checkpoint | undefined;
  /** A checkpoint past the last position given: only `finish` may follow (see the order above). */
  let aheadOfEntries: string | undefined;
  let finished = false;

  const record = (found: ChainBreak, then?: FollowUp) => {
    if (firstBreak && firstBreak.position <= found.position) return;
    firstBreak = found;
    followUp = then;
  };

  function checkEntry(position: number, entry: ChainEntry, event: StoredEvent | undefined): void {
    const eventId = entry.eventId;
    const previous = current.position === position - 1 ? current.hash : undefined;
    if (entry._id !== entryIdOf(chain, position) || entry.chain !== chain || entry.position !== position) {
      record({ position, kind: 'reordered', eventId, detail: `the entry found at position ${position} names itself ${entry._id} (chain ${entry.chain}, position ${entry.position})` });
      return;
    }
    if (!event) {
      record({ position, kind: 'event-removed', eventId, detail: `event ${eventId}, chained at position ${position}, is not stored any more` });
      return;
    }
    if (event._id !== eventId) throw new Error(`chain verifier: position ${position} names event ${eventId} but was given event ${event._id}`);

    const recomputed = linkHash(entry.prevHash, event);
    const follows = previous === undefined || entry.prevHash === previous;
    if (recomputed !== entry.hash) {
      const edited: ChainBreak = { position, kind: 'event-edited', eventId, detail: `event ${eventId} no longer hashes to its entry's hash at position ${position}` };
      if (!follows && previous !== undefined && linkHash(previous, event) === entry.hash) {
        edited.detail += `; the event is intact, but the entry's prevHash was changed (it no longer names the hash of position ${position - 1})`;
        record(edited);
      } else if (!follows) {
        edited.detail += `, and the entry does not follow position ${position - 1} either`;
        record(edited);
      } else record(edited, hashFieldCheck(edited, position, recomputed));
      return;
    }
    if (!follows) record(...reorderedAt(position, entry, previous!));
  }

  /** Event edited, or only the entry's `hash` field? The next entry still follows the original hash, so it tells. */
  function hashFieldCheck(edited: ChainBreak, position: number, recomputed: string): FollowUp {
    return {
      onEntry(next, entry) {
        if (next === position + 1 && entry.prevHash === recomputed) {
          edited.detail += `; the event still hashes to what position ${next} follows, so the entry's hash field was changed, not the event`;
        }
        return true;
      },
      onFinish() {},
    };
  }

  /** Looks ahead for the entry this one follows and for the entry that follows position - 1, to name the positions. */
  function reorderedAt(position: number, entry: ChainEntry, previous: string): [ChainBreak, FollowUp] {
    const found: ChainBreak = { position, kind: 'reordered', eventId: entry.eventId, detail: '' };
    let predecessorAt: number | undefined;
    let followerAt: number | undefined;
    const describe = () => {
      const parts = [`the entry at position ${position} is consistent in itself but does not follow position ${position - 1}`];
      parts.push(predecessorAt === undefined ? 'no later entry in the range has the hash it follows' : `it follows the entry at position ${predecessorAt}`);
      parts.push(followerAt === undefined ? `no later entry in the range follows position ${position - 1}` : `the entry that follows position ${position - 1} is at position ${followerAt}`);
      let detail = parts.join('; ');
      if (followerAt !== undefined && (predecessorAt === followerAt || predecessorAt === followerAt - 1)) {
        detail += ` (positions ${position} and ${followerAt} were swapped)`;
      } else if (predecessorAt === undefined && followerAt === undefined) {
        detail += ` (the entry that was at ${position} was removed and the later ones renumbered, or the entry at ${position - 1} was rewritten together with its hash)`;
      }
      found.detail = detail;
    };
    describe();
    return [
      found,
      {
        onEntry(at, later) {
          const before = [predecessorAt, followerAt];
          if (predecessorAt === undefined && later.hash === entry.prevHash) predecessorAt = at;
          if (followerAt === undefined && later.prevHash === previous) followerAt = at;
          if (before[0] !== predecessorAt || before[1] !== followerAt) describe();
          return predecessorAt !== undefined && followerAt !== undefined;
        },
        onFinish: describe,
      },
    ];
  }

  function notFinished(call: string) {
    if (finished) throw new Error(`chain verifier: ${call} after finish`);
  }

  return {
    entry(position, entry, event) {
      notFinished('entry');
      if (position !== lastGiven + 1) throw new Error(`chain verifier: expected position ${lastGiven + 1}, got ${position}`);
      if (aheadOfEntries) {
        throw new Error(`chain verifier: checkpoint ${aheadOfEntries} was given before its entry; give each checkpoint after its position's entry`);
      }
      lastGiven = position;
      checked += 1;
      if (!entry) {
        gapStart ??= position;
        return;
      }
      if (gapStart !== undefined) {
        const missing = gapStart === position - 1 ? `position ${gapStart} is` : `positions ${gapStart}–${position - 1} are`;
        record({ position: gapStart, kind: 'entry-removed', detail: `${missing} missing inside the chain, which continues at ${position}` });
        gapStart = undefined;
        beyondEntries = undefined; // it fell into the gap: the break above is earlier
      }
      if (followUp?.onEntry(position, entry)) followUp = undefined;
      // Anything found after the first break would be later, so the hashing stops there.
      if (!firstBreak) checkEntry(position, entry, event);
      current = { position, hash: entry.hash };
    },

    checkpoint(cp) {
      notFinished('checkpoint');
      if (lastCheckpoint && cp.position <= lastCheckpoint.position) {
        throw new Error(`chain verifier: checkpoints must come in ascending position; ${cp.position} after ${lastCheckpoint.position}`);
      }
      const beforeRange = cp.position < current.position;
      if (beforeRange && checked > 0) {
        throw new Error(`chain verifier: checkpoint at ${cp.position} came after the entry at ${current.position}; give each checkpoint right after its position's entry`);
      }
      checkpointsChecked += 1;
      const expectedPrevious = lastCheckpoint;
      lastCheckpoint = { position: cp.position, hash: cp.hash };

      if (cp.chain !== chain || cp._id !== entryIdOf(chain, cp.position)) {
        record({ position: cp.position, kind: 'checkpoint-forged', detail: `checkpoint ${cp._id} (chain ${cp.chain}, position ${cp.position}) is filed under chain ${chain} at position ${cp.position}` });
        return;
      }
      if (!isValidCheckpoint(cp)) {
        record({ position: cp.position, kind: 'checkpoint-forged', detail: `checkpoint ${cp._id} does not carry a valid signature by a known key (keyId ${cp.keyId})` });
        return;
      }
      // Undefined: the checkpoint before `from` was not given, so there is nothing to match.
      if (expectedPrevious !== undefined && !samePrevious(cp.previous, expectedPrevious)) {
        const expected = expectedPrevious ? `position ${expectedPrevious.position}` : 'none (it is the first)';
        const named = cp.previous ? `position ${cp.previous.position}` : 'none';
        record({ position: cp.position, kind: 'checkpoint-forged', detail: `checkpoint ${cp._id} names ${named} as the checkpoint before it, but that is ${expected}: a checkpoint was removed or replaced` });
        return;
      }
      if (beforeRange) return;
      if (cp.position === current.position) {
        if (current.hash === undefined) return; // position from - 1 without an anchor: no hash to compare
        if (cp.hash !== current.hash) {
          const since = latest ? `after position ${latest.position}` : 'in the range';
          record({ position: cp.position, kind: 'checkpoint-mismatch', detail: `the chain's hash at position ${cp.position} differs from the one signed at ${cp.at}: the chain was rewritten somewhere ${since} up to ${cp.position}, with every link recomputed` });
          return;
        }
        latest = { position: cp.position, hash: cp.hash, at: cp.at, keyId: cp.keyId };
        return;
      }
      beyondEntries ??= cp;
      if (cp.position > lastGiven) aheadOfEntries ??= cp._id;
    },

    finish(lastPosition) {
      notFinished('finish');
      if (lastPosition < lastGiven) throw new Error(`chain verifier: finish(${lastPosition}) but positions up to ${lastGiven} were given`);
      finished = true;
      if (beyondEntries) {
        const cut = current.position + 1;
        record({ position: cut, kind: 'tail-cut', detail: `checkpoint ${beyondEntries._id}, signed at ${beyondEntries.at}, covers positions up to ${beyondEntries.position}, but the chain ends at ${current.position}: positions from ${cut} were removed` });
      }
      followUp?.onFinish();
      const sealedUpTo = Math.max(latest?.position ?? 0, from - 1);
      return {
        chain,
        from,
        to: lastPosition,
        checked,
        ok: firstBreak === undefined,
        ...(firstBreak ? { firstBreak } : {}),
        checkpoints: { checked: checkpointsChecked, ...(latest ? { latest } : {}), unsealed: Math.max(0, current.position - sealedUpTo) },
      };
    },

    get settled() {
      return firstBreak !== undefined && followUp === undefined && gapStart === undefined && beyondEntries === undefined;
    },
  };
}

function samePrevious(named: Checkpoint['previous'], expected: { position: number; hash: string } | null): boolean {
  if (named === null || expected === null) return named === expected;
  return named.position === expected.position && named.hash === expected.hash;
}

import { createHash } from 'node:crypto';
import {
  appendLinks,
  canonicalJson,
  createChainVerifier,
  genesisHash,
  linkHash,
  type ChainEntry,
  type ChainVerificationReport,
  type Checkpoint,
  type StoredEvent,
} from '../src/domain/audit-chain';
import { createCheckpointSigner, createCheckpointVerifier, generateCheckpointKeyPem, publicKeyOf } from '../src/domain/checkpoint-signing';

const chain = 'audit-0';
const signingKey = generateCheckpointKeyPem();
const signer = createCheckpointSigner(signingKey);
const isValidCheckpoint = createCheckpointVerifier([publicKeyOf(signingKey)]);

const eventNumbered = (n: number): StoredEvent => ({
  _id: `evt-${n}`,
  type: 'catalog.category.created',
  source: 'categories',
  data: { name: `Category ${n}`, tags: ['a', 'b'], price: n * 1.5 },
  receivedAt: `2026-11-22T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
});

/** A chain of `count` events as the database would hold it, with checkpoints signed at `sealedAt`. */
function storedChain(count: number, sealedAt: number[] = []) {
  const events = new Map<string, StoredEvent>();
  const list = Array.from({ length: count }, (_, i) => eventNumbered(i + 1));
  for (const event of list) events.set(event._id, event);
  const entries = new Map<number, ChainEntry>(appendLinks(chain, undefined, list).map((entry) => [entry.position, entry]));
  const checkpoints = sealAt(entries, sealedAt);
  return { events, entries, checkpoints };
}

function sealAt(entries: Map<number, ChainEntry>, positions: number[]): Checkpoint[] {
  let previous: Checkpoint['previous'] = null;
  return positions.map((position) => {
    const hash = entries.get(position)!.hash;
    const cp = signer.sign({ chain, position, hash, at: `2026-11-22T11:00:00.000Z`, previous });
    previous = { position, hash };
    return cp;
  });
}

/**
 * Feeds the verifier the way the data-access layer pages it: the checkpoints before the range, then each position
 * followed by that position's checkpoints, then the checkpoints past the last position.
 */
function verify(
  stored: { events: Map<string, StoredEvent>; entries: Map<number, ChainEntry>; checkpoints: Checkpoint[] },
  range: { from?: number; to?: number } = {},
): ChainVerificationReport {
  const from = range.from ?? 1;
  const positions = [...stored.entries.keys()];
  const to = range.to ?? (positions.length ? Math.max(...positions) : 0);
  const before = stored.entries.get(from - 1);
  const verifier = createChainVerifier({ chain, from, anchor: from > 1 && before ? { position: from - 1, hash: before.hash } : undefined, isValidCheckpoint });
  const checkpointsFrom = stored.checkpoints.filter((cp) => cp.position >= from);
  for (const cp of stored.checkpoints.filter((early) => early.position < from)) verifier.checkpoint(cp);
  let next = 0;
  for (let position = from; position <= to; position += 1) {
    const entry = stored.entries.get(position);
    verifier.entry(position, entry, entry && stored.events.get(entry.eventId));
    while (next < checkpointsFrom.length && checkpointsFrom[next]!.position <= position) verifier.checkpoint(checkpointsFrom[next++]!);
  }
  while (next < checkpointsFrom.length) verifier.checkpoint(checkpointsFrom[next++]!);
  return verifier.finish(to);
}

/** What someone with database access does to rewrite the chain from `position` on so every link is consistent again. */
function recomputeFrom(entries: Map<number, ChainEntry>, events: Map<string, StoredEvent>, position: number) {
  const tail = position > 1 ? entries.get(position - 1)! : undefined;
  const later = [...entries.values()].filter((entry) => entry.position >= position).map((entry) => events.get(entry.eventId)!);
  for (const entry of appendLinks(chain, tail && { position: tail.position, hash: tail.hash }, later)) entries.set(entry.position, entry);
}

/** Swaps what two entry documents hold, keeping each document's `_id` and `position`. */
function swapEntries(entries: Map<number, ChainEntry>, a: number, b: number) {
  const first = entries.get(a)!;
  const second = entries.get(b)!;
  entries.set(a, { ...second, _id: first._id, position: a });
  entries.set(b, { ...first, _id: second._id, position: b });
}

describe('canonical JSON and link hashes', () => {
  it('when keys come in another order, then the canonical JSON and the hash are the same', () => {
    const a = { _id: 'x', b: 1, a: { d: [1, 'é'], c: null } };
    const b = { a: { c: null, d: [1, 'é'] }, b: 1, _id: 'x' };
    expect(canonicalJson(a)).toBe('{"_id":"x","a":{"c":null,"d":[1,"é"]},"b":1}');
    expect(linkHash(genesisHash, a)).toBe(linkHash(genesisHash, b));
  });

  it('when an event is hashed, then the hash is hex SHA-256 of prevHash followed by its canonical JSON', () => {
    const event = eventNumbered(1);
    const expected = createHash('sha256').update(genesisHash + canonicalJson(event), 'utf8').digest('hex');
    expect(linkHash(genesisHash, event)).toBe(expected);
    expect(genesisHash).toBe('0'.repeat(64));
  });

  it('when a value is undefined, then canonical JSON refuses it instead of hashing a document the database stores differently', () => {
    expect(() => canonicalJson({ _id: 'x', subject: undefined })).toThrow(/undefined/);
  });
});

describe('appending links', () => {
  it('when events are appended to an empty chain, then positions start at 1 from the genesis hash and each link follows the one before', () => {
    const entries = appendLinks(chain, undefined, [eventNumbered(1), eventNumbered(2), eventNumbered(3)]);
    expect(entries.map((entry) => [entry._id, entry.position, entry.eventId])).toEqual([
      [`${chain}:1`, 1, 'evt-1'],
      [`${chain}:2`, 2, 'evt-2'],
      [`${chain}:3`, 3, 'evt-3'],
    ]);
    expect(entries[0]!.prevHash).toBe(genesisHash);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(entries[2]!.hash).toBe(linkHash(entries[1]!.hash, eventNumbered(3)));
  });

  it('when a chain is appended in two batches, then the links are the same as in one', () => {
    const all = [1, 2, 3, 4, 5].map(eventNumbered);
    const once = appendLinks(chain, undefined, all);
    const first = appendLinks(chain, undefined, all.slice(0, 2));
    const second = appendLinks(chain, { position: 2, hash: first[1]!.hash }, all.slice(2));
    expect([...first, ...second]).toEqual(once);
  });

  it('when a batch holds an event id twice, then nothing is appended, since a duplicate must never take a position', () => {
    expect(() => appendLinks(chain, undefined, [eventNumbered(1), eventNumbered(1)])).toThrow(/evt-1 appears twice/);
  });
});

describe('verifying a chain', () => {
  it('when nothing was touched, then the report is ok, counts every position and names the latest checkpoint', () => {
    const report = verify(storedChain(10, [4, 8]));
    expect(report).toEqual({
      chain,
      from: 1,
      to: 10,
      checked: 10,
      ok: true,
      checkpoints: { checked: 2, latest: expect.objectContaining({ position: 8, keyId: signer.keyId }), unsealed: 2 },
    });
  });

  it('when a range after position 1 is verified from its anchor, then it is ok and only its own positions are checked', () => {
    const report = verify(storedChain(10, [4, 8]), { from: 5 });
    expect(report).toMatchObject({ from: 5, to: 10, checked: 6, ok: true, checkpoints: { checked: 2, latest: { position: 8 }, unsealed: 2 } });
  });

  it('when a range starts after a checkpoint that was deleted, then the first checkpoint in the range is checkpoint-forged', () => {
    const stored = storedChain(10, [3, 6, 9]);
    stored.checkpoints.splice(1, 1);
    expect(verify(stored, { from: 7 }).firstBreak).toMatchObject({ position: 9, kind: 'checkpoint-forged' });
  });

  it('when the anchor before the range was rewritten, then the checkpoint at that position finds it as checkpoint-mismatch', () => {
    const stored = storedChain(10, [4]);
    stored.events.set('evt-2', { ...stored.events.get('evt-2')!, data: { name: 'Rewritten' } });
    recomputeFrom(stored.entries, stored.events, 2);
    expect(verify(stored, { from: 5 }).firstBreak).toMatchObject({ position: 4, kind: 'checkpoint-mismatch' });
  });

  it('when the chain is empty, then it is ok with nothing checked', () => {
    expect(verify(storedChain(0))).toMatchObject({ from: 1, to: 0, checked: 0, ok: true, checkpoints: { checked: 0, unsealed: 0 } });
  });

  it("when an event's data was edited, then the first break is event-edited at its position", () => {
    const stored = storedChain(10, [8]);
    stored.events.set('evt-3', { ...stored.events.get('evt-3')!, data: { name: 'Renamed' } });
    expect(verify(stored).firstBreak).toEqual({ position: 3, kind: 'event-edited', eventId: 'evt-3', detail: expect.stringContaining('evt-3') });
  });

  it("when only an entry's hash field was edited, then it is event-edited at that position and the detail says the event is intact", () => {
    const stored = storedChain(10);
    stored.entries.set(6, { ...stored.entries.get(6)!, hash: 'f'.repeat(64) });
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 6, kind: 'event-edited', eventId: 'evt-6' });
    expect(report.firstBreak!.detail).toMatch(/hash field was changed, not the event/);
  });

  it("when only an entry's prevHash field was edited, then it is event-edited at that position and the detail says the event is intact", () => {
    const stored = storedChain(10);
    stored.entries.set(6, { ...stored.entries.get(6)!, prevHash: 'f'.repeat(64) });
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 6, kind: 'event-edited', eventId: 'evt-6' });
    expect(report.firstBreak!.detail).toMatch(/prevHash was changed/);
  });

  it('when an event was deleted, then the first break is event-removed at its position', () => {
    const stored = storedChain(10, [8]);
    stored.events.delete('evt-4');
    expect(verify(stored).firstBreak).toMatchObject({ position: 4, kind: 'event-removed', eventId: 'evt-4' });
  });

  it('when entries inside the chain were deleted, then the first break is entry-removed at the first missing position', () => {
    const stored = storedChain(10);
    stored.entries.delete(5);
    stored.entries.delete(6);
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 5, kind: 'entry-removed' });
    expect(report.firstBreak!.detail).toMatch(/positions 5–6 are missing/);
  });

  it('when two neighbouring entries were swapped, then the first break is reordered at the first of them and the detail names both', () => {
    const stored = storedChain(10);
    swapEntries(stored.entries, 4, 5);
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 4, kind: 'reordered', eventId: 'evt-5' });
    expect(report.firstBreak!.detail).toMatch(/positions 4 and 5 were swapped/);
  });

  it('when two distant entries were swapped, then the first break is reordered at the first of them and the detail names the other', () => {
    const stored = storedChain(12);
    swapEntries(stored.entries, 3, 9);
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 3, kind: 'reordered', eventId: 'evt-9' });
    expect(report.firstBreak!.detail).toMatch(/it follows the entry at position 8/);
    expect(report.firstBreak!.detail).toMatch(/positions 3 and 9 were swapped/);
  });

  it('when an entry was deleted and the later ones renumbered, then it is reordered at the removed position and the detail says nothing follows', () => {
    const stored = storedChain(10);
    for (let position = 5; position < 10; position += 1) {
      stored.entries.set(position, { ...stored.entries.get(position + 1)!, _id: `${chain}:${position}`, position });
    }
    stored.entries.delete(10);
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 5, kind: 'reordered', eventId: 'evt-6' });
    expect(report.firstBreak!.detail).toMatch(/no later entry in the range follows position 4 \(the entry that was at 5 was removed/);
  });

  it('when the tail was cut off below a checkpoint, then the first break is tail-cut at the first removed position', () => {
    const stored = storedChain(10, [4, 10]);
    for (const position of [8, 9, 10]) stored.entries.delete(position);
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 8, kind: 'tail-cut' });
    expect(report.firstBreak!.detail).toMatch(/covers positions up to 10, but the chain ends at 7/);
  });

  it('when the tail was cut and the caller pages up to the requested end, then it is still tail-cut, not entry-removed', () => {
    const stored = storedChain(10, [10]);
    for (const position of [8, 9, 10]) stored.entries.delete(position);
    expect(verify(stored, { to: 12 }).firstBreak).toMatchObject({ position: 8, kind: 'tail-cut' });
  });

  it('when every entry was removed but a checkpoint remains, then the first break is tail-cut at position 1', () => {
    const stored = storedChain(5, [5]);
    stored.entries.clear();
    expect(verify(stored).firstBreak).toMatchObject({ position: 1, kind: 'tail-cut' });
  });

  it('when the tail was cut and nothing was ever sealed, then the report is ok but says how many positions are unsealed', () => {
    const stored = storedChain(10, [4]);
    for (const position of [8, 9, 10]) stored.entries.delete(position);
    expect(verify(stored)).toMatchObject({ ok: true, checkpoints: { latest: { position: 4 }, unsealed: 3 } });
  });

  it('when an event was edited and the whole chain recomputed, then the first break is checkpoint-mismatch at the next checkpoint', () => {
    const stored = storedChain(10, [3, 6, 9]);
    stored.events.set('evt-5', { ...stored.events.get('evt-5')!, data: { name: 'Rewritten' } });
    recomputeFrom(stored.entries, stored.events, 1);
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 6, kind: 'checkpoint-mismatch' });
    expect(report.firstBreak!.detail).toMatch(/after position 3 up to 6/);
  });

  it("when a checkpoint's hash was changed, then the first break is checkpoint-forged at its position", () => {
    const stored = storedChain(10, [3, 6, 9]);
    stored.checkpoints[1] = { ...stored.checkpoints[1]!, hash: stored.entries.get(5)!.hash };
    expect(verify(stored).firstBreak).toMatchObject({ position: 6, kind: 'checkpoint-forged' });
  });

  it('when a checkpoint was signed by an unknown key, then the first break is checkpoint-forged at its position', () => {
    const stored = storedChain(10, [3]);
    const other = createCheckpointSigner(generateCheckpointKeyPem());
    stored.checkpoints.push(other.sign({ chain, position: 7, hash: stored.entries.get(7)!.hash, at: '2026-11-22T11:00:00.000Z', previous: { position: 3, hash: stored.entries.get(3)!.hash } }));
    expect(verify(stored).firstBreak).toMatchObject({ position: 7, kind: 'checkpoint-forged' });
  });

  it('when a checkpoint between two others was deleted, then the next one is checkpoint-forged: its previous no longer matches', () => {
    const stored = storedChain(10, [3, 6, 9]);
    stored.checkpoints.splice(1, 1);
    const report = verify(stored);
    expect(report.firstBreak).toMatchObject({ position: 9, kind: 'checkpoint-forged' });
    expect(report.firstBreak!.detail).toMatch(/names position 6 .* but that is position 3/);
  });

  it('when the first checkpoint was deleted, then the next is checkpoint-forged: it names a predecessor where there is none', () => {
    const stored = storedChain(10, [3, 6]);
    stored.checkpoints.shift();
    expect(verify(stored).firstBreak).toMatchObject({ position: 6, kind: 'checkpoint-forged' });
  });

  it('when several things were tampered with, then only the lowest position is reported', () => {
    const stored = storedChain(10, [9]);
    stored.events.delete('evt-7');
    stored.entries.delete(3);
    stored.checkpoints[0] = { ...stored.checkpoints[0]!, signature: stored.checkpoints[0]!.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
    expect(verify(stored).firstBreak).toMatchObject({ position: 3, kind: 'entry-removed' });
  });

  it('when the break is found and its detail is final, then the verifier says so, and the caller may stop paging', () => {
    const stored = storedChain(10);
    stored.events.delete('evt-2');
    const verifier = createChainVerifier({ chain, from: 1, anchor: undefined, isValidCheckpoint });
    verifier.entry(1, stored.entries.get(1), stored.events.get('evt-1'));
    expect(verifier.settled).toBe(false);
    verifier.entry(2, stored.entries.get(2), undefined);
    expect(verifier.settled).toBe(true);
    expect(verifier.finish(2)).toMatchObject({ to: 2, checked: 2, firstBreak: { position: 2, kind: 'event-removed' } });
  });

  it('when positions or checkpoints come out of order, then the verifier throws instead of reporting on what it did not check', () => {
    const stored = storedChain(5, [2]);
    const verifier = createChainVerifier({ chain, from: 1, anchor: undefined, isValidCheckpoint });
    expect(() => verifier.entry(2, stored.entries.get(2), stored.events.get('evt-2'))).toThrow(/expected position 1/);
    verifier.entry(1, stored.entries.get(1), stored.events.get('evt-1'));
    verifier.entry(2, stored.entries.get(2), stored.events.get('evt-2'));
    verifier.entry(3, stored.entries.get(3), stored.events.get('evt-3'));
    expect(() => verifier.checkpoint(stored.checkpoints[0]!)).toThrow(/right after its position's entry/);
    const early = createChainVerifier({ chain, from: 1, anchor: undefined, isValidCheckpoint });
    early.entry(1, stored.entries.get(1), stored.events.get('evt-1'));
    early.checkpoint(stored.checkpoints[0]!);
    expect(() => early.entry(2, stored.entries.get(2), stored.events.get('evt-2'))).toThrow(`checkpoint ${chain}:2 was given before its entry`);
    expect(() => createChainVerifier({ chain, from: 3, anchor: { position: 1, hash: genesisHash }, isValidCheckpoint })).toThrow(/anchor/);
  });
});

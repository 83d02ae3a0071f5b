import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { Checkpoint } from '../src/domain/audit-chain';
import { createCheckpointSigner, createCheckpointVerifier, generateCheckpointKeyPem, publicKeyOf, type UnsignedCheckpoint } from '../src/domain/checkpoint-signing';

const unsigned: UnsignedCheckpoint = {
  chain: 'audit-0',
  position: 42,
  hash: 'a'.repeat(64),
  at: '2026-11-22T23:00:00.000Z',
  previous: { position: 21, hash: 'b'.repeat(64) },
};

const oldKey = generateCheckpointKeyPem();
const newKey = generateCheckpointKeyPem();

describe('checkpoint signing', () => {
  it('when a checkpoint is signed, then it carries its id, the key id and a signature that the public key verifies', () => {
    const cp = createCheckpointSigner(newKey).sign(unsigned);
    expect(cp).toMatchObject({ ...unsigned, _id: 'audit-0:42', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(Buffer.from(cp.signature, 'base64')).toHaveLength(64);
    expect(createCheckpointVerifier([publicKeyOf(newKey)])(cp)).toBe(true);
  });

  it("when the key id is derived, then it is the first 16 hex of SHA-256 over the public key's DER", () => {
    const der = createPublicKey(publicKeyOf(newKey)).export({ type: 'spki', format: 'der' });
    expect(createCheckpointSigner(newKey).keyId).toBe(createHash('sha256').update(der).digest('hex').slice(0, 16));
  });

  it('when the key was rotated, then a verifier holding both keys verifies old and new checkpoints, and one holding only the new key rejects the old', () => {
    const old = createCheckpointSigner(oldKey).sign(unsigned);
    const fresh = createCheckpointSigner(newKey).sign({ ...unsigned, position: 43, previous: { position: 42, hash: unsigned.hash } });
    const both = createCheckpointVerifier([publicKeyOf(newKey), publicKeyOf(oldKey)]);
    expect([both(old), both(fresh)]).toEqual([true, true]);
    const newOnly = createCheckpointVerifier([publicKeyOf(newKey)]);
    expect([newOnly(old), newOnly(fresh)]).toEqual([false, true]);
  });

  it.each<[string, (cp: Checkpoint) => Checkpoint]>([
    ['hash', (cp) => ({ ...cp, hash: 'c'.repeat(64) })],
    ['position', (cp) => ({ ...cp, position: 43 })],
    ['at', (cp) => ({ ...cp, at: '2026-11-23T00:00:00.000Z' })],
    ['previous', (cp) => ({ ...cp, previous: null })],
    ['chain', (cp) => ({ ...cp, chain: 'audit-1' })],
    ['_id', (cp) => ({ ...cp, _id: 'audit-0:41' })],
    ['keyId', (cp) => ({ ...cp, keyId: '0'.repeat(16) })],
    ['signature', (cp) => ({ ...cp, signature: Buffer.alloc(64).toString('base64') })],
  ])('when the checkpoint field %s is changed after signing, then it does not verify', (_field, tamper) => {
    const cp = createCheckpointSigner(newKey).sign(unsigned);
    expect(createCheckpointVerifier([publicKeyOf(newKey)])(tamper(cp))).toBe(false);
  });

  it('when the stored document carries an extra field, then the checkpoint still verifies, since only its own fields are signed', () => {
    const cp = createCheckpointSigner(newKey).sign(unsigned);
    expect(createCheckpointVerifier([publicKeyOf(newKey)])({ ...cp, storedAt: 'later' } as Checkpoint)).toBe(true);
  });

  it('when a stored checkpoint is malformed, then verification answers false instead of throwing', () => {
    const verifier = createCheckpointVerifier([publicKeyOf(newKey)]);
    const cp = createCheckpointSigner(newKey).sign(unsigned);
    const { at: _at, ...withoutAt } = cp;
    expect(verifier(withoutAt as Checkpoint)).toBe(false);
    expect(verifier({ ...cp, signature: 'not base64 at all!' })).toBe(false);
    expect(verifier({ ...cp, signature: `${cp.signature} ` })).toBe(false);
    expect(verifier({} as Checkpoint)).toBe(false);
  });

  it('when a key is not Ed25519, then signer and verifier refuse it with a clear error', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPrivate = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ecPublic = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => createCheckpointSigner(ecPrivate)).toThrow('checkpoint signing key: an Ed25519 key is required, this is ec');
    expect(() => createCheckpointVerifier([publicKeyOf(newKey), ecPublic])).toThrow('checkpoint verification key #2: an Ed25519 key is required, this is ec');
    expect(() => publicKeyOf(ecPrivate)).toThrow(/Ed25519/);
  });

  it('when the signing key is not a PEM private key, then the error says so without echoing the input', () => {
    expect(() => createCheckpointSigner(publicKeyOf(newKey))).toThrow('checkpoint signing key: not a PEM private key (PKCS#8 Ed25519 expected)');
    expect(() => createCheckpointSigner('secret-looking garbage')).toThrow(/^checkpoint signing key: not a PEM private key/);
    expect(() => createCheckpointVerifier([])).toThrow(/at least one public key/);
  });

  it('when the statement to sign could never match a chain, then nothing is signed', () => {
    const signer = createCheckpointSigner(newKey);
    expect(() => signer.sign({ ...unsigned, hash: 'XYZ' })).toThrow(/hash must be 64 lower-case hex digits/);
    expect(() => signer.sign({ ...unsigned, previous: { position: 42, hash: 'b'.repeat(64) } })).toThrow(/previous must be/);
    expect(() => signer.sign({ ...unsigned, at: 'yesterday' })).toThrow(/at must be an ISO 8601 instant/);
    expect(() => signer.sign({ ...unsigned, _id: 'audit-0:41' })).toThrow(/_id must be audit-0:42/);
    expect(signer.sign({ ...unsigned, _id: 'audit-0:42' })._id).toBe('audit-0:42');
  });

  it('when a new key is generated, then it is a PKCS#8 PEM whose public key is an SPKI PEM', () => {
    expect(generateCheckpointKeyPem()).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(publicKeyOf(generateCheckpointKeyPem())).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });
});

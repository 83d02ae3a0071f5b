import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, entryIdOf, type Checkpoint } from './audit-chain';

/** What the checkpoint writer decides; the signer adds `keyId` and `signature`, and `_id` when it is left out. */
export type UnsignedCheckpoint = Omit<Checkpoint, '_id' | 'keyId' | 'signature'> & { _id?: string };

export interface CheckpointSigner {
  keyId: string;
  sign(unsigned: UnsignedCheckpoint): Checkpoint;
}

/**
 * The signed bytes: the checkpoint's own fields only, picked by name, so a field the data layer adds to the stored
 * document (or an attacker adds) cannot change what is verified, and a missing one fails canonicalJson.
 */
const signedBytesOf = (cp: Omit<Checkpoint, 'signature'>): Buffer =>
  Buffer.from(
    canonicalJson({ _id: cp._id, chain: cp.chain, position: cp.position, hash: cp.hash, at: cp.at, previous: cp.previous, keyId: cp.keyId }),
    'utf8',
  );

/** First 16 hex of SHA-256 over the public key's DER (SPKI): names the key without revealing anything secret. */
const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);

function ed25519(key: KeyObject, role: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`checkpoint ${role}: an Ed25519 key is required, this is ${key.asymmetricKeyType ?? key.type}`);
  }
  return key;
}

// The PEM never goes into a message: it may be the signing key.
function privateKeyOf(privateKeyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new Error('checkpoint signing key: not a PEM private key (PKCS#8 Ed25519 expected)', { cause: error });
  }
  return ed25519(key, 'signing key');
}

function publicKeyFrom(publicKeyPem: string, index: number): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (error) {
    throw new Error(`checkpoint verification key #${index + 1}: not a PEM public key (SPKI Ed25519 expected)`, { cause: error });
  }
  return ed25519(key, `verification key #${index + 1}`);
}

const sha256Hex = /^[0-9a-f]{64}$/;
const isoInstant = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** A signature lasts: refuse to sign a statement the verifier could never match against a chain. */
function assertSignable(unsigned: UnsignedCheckpoint): void {
  const { _id, chain, position, hash, at, previous } = unsigned;
  const problems = [
    _id === undefined || _id === entryIdOf(chain, position) ? '' : `_id must be ${entryIdOf(chain, position)}`,
    typeof chain === 'string' && chain.length > 0 ? '' : 'chain must be a non-empty string',
    Number.isSafeInteger(position) && position >= 0 ? '' : 'position must be an integer ≥ 0',
    sha256Hex.test(hash) ? '' : 'hash must be 64 lower-case hex digits',
    isoInstant.test(at) && !Number.isNaN(Date.parse(at)) ? '' : 'at must be an ISO 8601 instant',
    previous === null || (Number.isSafeInteger(previous.position) && previous.position < position && sha256Hex.test(previous.hash))
      ? ''
      : 'previous must be null or an earlier position with its hash',
  ].filter(Boolean);
  if (problems.length) throw new Error(`checkpoint for ${chain}:${position} not signed: ${problems.join('; ')}`);
}

/** Signs checkpoints with an Ed25519 private key (PKCS#8 PEM), held outside the database. */
export function createCheckpointSigner(privateKeyPem: string): CheckpointSigner {
  const privateKey = privateKeyOf(privateKeyPem);
  const keyId = keyIdOf(createPublicKey(privateKey));
  return {
    keyId,
    sign(unsigned) {
      assertSignable(unsigned);
      const { chain, position, hash, at, previous } = unsigned;
      const body = { _id: entryIdOf(chain, position), chain, position, hash, at, previous: previous && { position: previous.position, hash: previous.hash }, keyId };
      return { ...body, signature: sign(null, signedBytesOf(body), privateKey).toString('base64') };
    },
  };
}

/**
 * A check for checkpoints signed by any of these keys (SPKI PEM), so checkpoints signed before a key rotation still
 * verify. It never throws: a malformed stored checkpoint is simply not valid.
 */
export function createCheckpointVerifier(publicKeyPems: string[]): (checkpoint: Checkpoint) => boolean {
  if (publicKeyPems.length === 0) throw new Error('checkpoint verification: at least one public key is needed');
  const keys = new Map<string, KeyObject>();
  publicKeyPems.forEach((pem, index) => {
    const key = publicKeyFrom(pem, index);
    keys.set(keyIdOf(key), key);
  });
  return (checkpoint) => {
    const key = keys.get(checkpoint.keyId);
    if (!key || typeof checkpoint.signature !== 'string') return false;
    try {
      const signature = Buffer.from(checkpoint.signature, 'base64');
      // Buffer.from skips what is not base64; only the exact encoding of the signature counts.
      if (signature.toString('base64') !== checkpoint.signature) return false;
      return verify(null, signedBytesOf(checkpoint), key, signature);
    } catch {
      return false;
    }
  };
}

/** The public key (SPKI PEM) to give verifiers for a signing key. */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyOf(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

/** A new Ed25519 signing key as PKCS#8 PEM (the devstack makes one at start-up). */
export function generateCheckpointKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

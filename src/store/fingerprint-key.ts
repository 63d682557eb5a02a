/**
 * Where an MO's redelivery fingerprint is kept (inbound_fingerprints, migration 11): under an
 * integer key, the first 8 bytes of its SHA-256 as a signed 64-bit integer, with the whole digest
 * beside it.
 *
 * Why: the key was the 64-character hex digest, a random TEXT in a B-tree of its own (the table's
 * rowid tree besides): every MO inserted into a random page of a tree of ~90-byte entries. Now the
 * key is the table's rowid — one tree, ~50-byte rows, still random (a hash is), but about a third of
 * the pages to touch and to keep in cache.
 *
 * A collision is safe: two different digests with the same key never make one look like a
 * redelivery of the other. The store compares the whole digest; a different one on the same key is
 * a new MO (stored, delivered) and takes the key over, so the only cost of a collision (odds 2⁻⁶⁴
 * per pair) is that a redelivery of the one taken over is delivered a second time: at least once,
 * never lost.
 */
import { createHash } from 'node:crypto';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface FingerprintKey {
  /** The first 8 bytes of the digest, big-endian, signed. */
  key: bigint;
  /** The whole digest (32 bytes). */
  digest: Buffer;
}

/**
 * The key and digest of a fingerprint: a SHA-256 hex digest (what moFingerprint makes) as it is,
 * any other text by its SHA-256.
 */
export function fingerprintKey(fingerprint: string): FingerprintKey {
  const digest = SHA256_HEX.test(fingerprint)
    ? Buffer.from(fingerprint, 'hex')
    : createHash('sha256').update(fingerprint, 'utf8').digest();
  return { key: digest.readBigInt64BE(0), digest };
}

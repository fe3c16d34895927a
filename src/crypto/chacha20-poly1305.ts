// The ChaCha20-Poly1305 AEAD (RFC 7539 §2.8): one interface, two backends.
//   wasm  assembly/poly1305.ts; batch keys in the instance's ChaCha key slots (shared with ChaCha20).
//   node  node:crypto 'chacha20-poly1305' (OpenSSL), a cipher object per message.
// Default: wasm (see docs/chacha.md for the measurement). A bad tag throws AuthenticationError from the
// one-message API; batch APIs report it per message as STATUS_BAD_MAC and leave that message untouched.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import {
  CHACHA_KEY_SIZE,
  CHACHA_NONCE_SIZE,
  IO_SIZE,
  POLY1305_TAG_SIZE,
  STATUS_BAD_MAC,
  STATUS_OK,
} from '../constants.js';
import { AuthenticationError } from '../errors.js';
import { sharedInstance, type WasmInstance } from '../wasm/loader.js';
import { resolveBackend, setDefaultBackend } from './backend.js';
import { ChaChaKeySlots, wasmKeySlots, writeParams, type ChaChaOptions } from './chacha20.js';
import type { CryptoBackend, MessageBatch } from './types.js';
import { checkBatch, checkBytes, checkInt, detached, runBatch } from './utils.js';

export const AEAD_FAMILY = 'chacha20-poly1305';
setDefaultBackend(AEAD_FAMILY, 'wasm');

/** Largest plaintext (RFC 7539 §2.8: the counter starts at 1, so 2^32 - 1 blocks). */
const AEAD_MAX = (2 ** 32 - 1) * 64;

/**
 * A batch of AEAD messages: message i's data is data[i*stride + offset, +length), sealed/opened in place, its
 * 16-byte tag right after it; its AAD (optional) is data[i*stride + aadOffset, +aadLength); key slot slots[i];
 * nonce nonces[12i, 12i+12).
 */
export interface AeadBatch extends MessageBatch {
  nonces: Uint8Array;
  aadOffset?: number;
  aadLength?: number;
}

export interface ChaCha20Poly1305 {
  readonly backend: CryptoBackend;
  /**
   * ciphertext || tag(16), into `output` when given (plaintext.length + 16 bytes; saves an allocation, which costs
   * about as much as the sealing of 1 KB).
   */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array, output?: Uint8Array): Uint8Array;
  /**
   * The plaintext of ciphertext || tag (into `output` when given, sealed.length - 16 bytes); throws
   * AuthenticationError when the tag does not verify (and then writes nothing).
   */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array, output?: Uint8Array): Uint8Array;
  /** Key slots: the same slots as ChaCha20's on the same WASM instance. */
  setKey(slot: number, key: Uint8Array): void;
  clearKey(slot: number): void;
  /** Seals every message in place (tag after the data). */
  sealBatch(batch: AeadBatch): void;
  /**
   * Opens every message in place: status[i] = STATUS_OK (decrypted) or STATUS_BAD_MAC (left as it was).
   * Returns the status array (`status` when given, at least `count` bytes).
   */
  openBatch(batch: AeadBatch, status?: Uint8Array): Uint8Array;
}

const EMPTY = new Uint8Array(0);

function checkSealArgs(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, aad: Uint8Array | undefined): Uint8Array {
  checkBytes('key', key, CHACHA_KEY_SIZE);
  checkBytes('nonce', nonce, CHACHA_NONCE_SIZE);
  checkBytes('data', data);
  if (aad === undefined) return EMPTY;
  checkBytes('aad', aad);
  return aad;
}

function checkAeadBatch(batch: AeadBatch): { aadOffset: number; aadLength: number } {
  checkBatch(batch, POLY1305_TAG_SIZE);
  const { count, nonces, data, stride } = batch;
  checkBytes('batch.nonces', nonces);
  if (nonces.length < count * CHACHA_NONCE_SIZE)
    throw new RangeError(`tunnelplane: batch.nonces needs ${count * CHACHA_NONCE_SIZE} bytes`);
  const aadOffset = batch.aadOffset ?? 0;
  const aadLength = batch.aadLength ?? 0;
  checkInt('batch.aadOffset', aadOffset, 0, Number.MAX_SAFE_INTEGER);
  checkInt('batch.aadLength', aadLength, 0, Number.MAX_SAFE_INTEGER);
  if (count > 0 && (count - 1) * stride + aadOffset + aadLength > data.length) {
    throw new RangeError('tunnelplane: batch AAD of the last message lies outside data');
  }
  if (count > 1 && aadOffset + aadLength > stride)
    throw new RangeError('tunnelplane: batch AAD crosses into the next message');
  if (batch.length > AEAD_MAX) throw new RangeError('tunnelplane: AEAD message too long (RFC 7539 §2.8)');
  return { aadOffset, aadLength };
}

type AeadOneFn = (aadLen: number, len: number) => number;
type AeadBatchFn = (
  n: number,
  region: number,
  stride: number,
  offset: number,
  len: number,
  aadOffset: number,
  aadLen: number,
) => number;

class WasmAead implements ChaCha20Poly1305 {
  readonly backend = 'wasm' as const;
  private readonly slots: ChaChaKeySlots;
  private readonly sealOne: AeadOneFn;
  private readonly openOne: AeadOneFn;
  private readonly sealMany: AeadBatchFn;
  private readonly openMany: AeadBatchFn;
  constructor(private readonly inst: WasmInstance) {
    this.slots = wasmKeySlots(inst);
    const x = inst.exports;
    this.sealOne = x.aeadSealOne as AeadOneFn;
    this.openOne = x.aeadOpenOne as AeadOneFn;
    this.sealMany = x.aeadSealBatch as AeadBatchFn;
    this.openMany = x.aeadOpenBatch as AeadBatchFn;
  }

  private stage(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array): void {
    if (aad.length + data.length + POLY1305_TAG_SIZE > IO_SIZE) {
      throw new RangeError(
        `tunnelplane: the wasm AEAD takes at most ${IO_SIZE - POLY1305_TAG_SIZE} bytes of AAD + data per call; use backend 'node' for more`,
      );
    }
    const inst = this.inst;
    const { u8, regions } = inst;
    [key, nonce, aad, data] = [detached(inst, key), detached(inst, nonce), detached(inst, aad), detached(inst, data)];
    u8.set(key, regions.KEY_IN);
    u8.set(nonce, regions.MSG_PARAM);
    u8.set(aad, regions.IO);
    u8.set(data, regions.IO + aad.length);
  }

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array, output?: Uint8Array): Uint8Array {
    const a = checkSealArgs(key, nonce, plaintext, aad);
    const out = outputArray(output, plaintext.length + POLY1305_TAG_SIZE);
    this.stage(key, nonce, a, plaintext);
    if (this.sealOne(a.length, plaintext.length) !== 0)
      throw new Error('tunnelplane: aeadSealOne rejected validated input');
    const at = this.inst.regions.IO + a.length;
    out.set(this.inst.u8.subarray(at, at + out.length));
    return out;
  }

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array, output?: Uint8Array): Uint8Array {
    const a = checkSealArgs(key, nonce, sealed, aad);
    if (sealed.length < POLY1305_TAG_SIZE)
      throw new RangeError('tunnelplane: sealed data is shorter than the 16-byte tag');
    const len = sealed.length - POLY1305_TAG_SIZE;
    const out = outputArray(output, len);
    this.stage(key, nonce, a, sealed);
    const rc = this.openOne(a.length, len);
    if (rc === 1) throw new AuthenticationError();
    if (rc !== 0) throw new Error('tunnelplane: aeadOpenOne rejected validated input');
    const at = this.inst.regions.IO + a.length;
    out.set(this.inst.u8.subarray(at, at + len));
    return out;
  }

  setKey(slot: number, key: Uint8Array): void {
    this.slots.store(slot, key);
  }

  clearKey(slot: number): void {
    this.slots.clear(slot);
  }

  private run(batch: AeadBatch, seal: boolean, status: Uint8Array | undefined): void {
    const checked = checkAeadBatch(batch);
    this.slots.check(batch.slots, batch.count);
    const { offset, length, nonces, slots } = batch;
    const aadLength = checked.aadLength;
    const aadOffset = aadLength > 0 ? checked.aadOffset : offset; // an empty AAD sits anywhere: put it on the data
    // Span from the lower of (AAD, data) to the higher end, so staging carries both.
    const lo = Math.min(offset, aadOffset);
    const hi = Math.max(offset + length + POLY1305_TAG_SIZE, aadOffset + aadLength);
    const fn = seal ? this.sealMany : this.openMany;
    const { u8, regions } = this.inst;
    runBatch(
      this.inst,
      batch,
      hi - lo,
      (region, stride, base, first, n) => {
        writeParams(this.inst, nonces, null, slots, first, n);
        const rc = fn(n, region, stride, base + (offset - lo), length, base + (aadOffset - lo), aadLength);
        if (rc < 0 || (seal && rc !== n)) throw new Error('tunnelplane: AEAD batch kernel rejected validated input');
        if (status) status.set(u8.subarray(regions.MSG_STATUS, regions.MSG_STATUS + n), first);
      },
      lo,
    );
  }

  sealBatch(batch: AeadBatch): void {
    this.run(batch, true, undefined);
  }

  openBatch(batch: AeadBatch, status?: Uint8Array): Uint8Array {
    const out = statusArray(batch, status);
    this.run(batch, false, out);
    return out;
  }
}

function outputArray(output: Uint8Array | undefined, length: number): Uint8Array {
  if (output === undefined) return new Uint8Array(length);
  checkBytes('output', output, length);
  return output;
}

function statusArray(batch: AeadBatch, status: Uint8Array | undefined): Uint8Array {
  const count = batch?.count;
  if (status === undefined) return new Uint8Array(typeof count === 'number' && count > 0 ? count : 0);
  checkBytes('status', status);
  if (typeof count === 'number' && status.length < count)
    throw new RangeError(`tunnelplane: status needs ${count} bytes`);
  return status;
}

class NodeAead implements ChaCha20Poly1305 {
  readonly backend = 'node' as const;
  private readonly slots = new ChaChaKeySlots(undefined);

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array, output?: Uint8Array): Uint8Array {
    const a = checkSealArgs(key, nonce, plaintext, aad);
    if (plaintext.length > AEAD_MAX) throw new RangeError('tunnelplane: AEAD message too long (RFC 7539 §2.8)');
    const out = outputArray(output, plaintext.length + POLY1305_TAG_SIZE);
    nodeSeal(key, nonce, a, plaintext, out);
    return out;
  }

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array, output?: Uint8Array): Uint8Array {
    const a = checkSealArgs(key, nonce, sealed, aad);
    if (sealed.length < POLY1305_TAG_SIZE)
      throw new RangeError('tunnelplane: sealed data is shorter than the 16-byte tag');
    const len = sealed.length - POLY1305_TAG_SIZE;
    const out = outputArray(output, len);
    const plain = nodeOpen(key, nonce, a, sealed.subarray(0, len), sealed.subarray(len));
    if (!plain) throw new AuthenticationError();
    out.set(plain);
    plain.fill(0);
    return out;
  }

  setKey(slot: number, key: Uint8Array): void {
    this.slots.store(slot, key);
  }

  clearKey(slot: number): void {
    this.slots.clear(slot);
  }

  sealBatch(batch: AeadBatch): void {
    const { aadOffset, aadLength } = checkAeadBatch(batch);
    this.slots.check(batch.slots, batch.count);
    const { count, data, stride, offset, length, nonces, slots } = batch;
    for (let i = 0; i < count; i++) {
      const m = i * stride;
      nodeSeal(
        this.slots.nodeKey(slots[i]!),
        nonces.subarray(12 * i, 12 * i + 12),
        data.subarray(m + aadOffset, m + aadOffset + aadLength),
        data.subarray(m + offset, m + offset + length),
        data.subarray(m + offset, m + offset + length + POLY1305_TAG_SIZE),
      );
    }
  }

  openBatch(batch: AeadBatch, status?: Uint8Array): Uint8Array {
    const out = statusArray(batch, status);
    const { aadOffset, aadLength } = checkAeadBatch(batch);
    this.slots.check(batch.slots, batch.count);
    const { count, data, stride, offset, length, nonces, slots } = batch;
    for (let i = 0; i < count; i++) {
      const m = i * stride;
      const at = m + offset;
      const plain = nodeOpen(
        this.slots.nodeKey(slots[i]!),
        nonces.subarray(12 * i, 12 * i + 12),
        data.subarray(m + aadOffset, m + aadOffset + aadLength),
        data.subarray(at, at + length),
        data.subarray(at + length, at + length + POLY1305_TAG_SIZE),
      );
      if (plain) {
        data.set(plain, at);
        out[i] = STATUS_OK;
      } else {
        out[i] = STATUS_BAD_MAC;
      }
    }
    return out;
  }
}

/** Seals plaintext into out (ciphertext || tag); out may alias plaintext's bytes. */
function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: POLY1305_TAG_SIZE });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const ct = c.update(plaintext);
  c.final();
  out.set(ct, 0);
  out.set(c.getAuthTag(), plaintext.length);
}

/** The plaintext, or null when the tag does not verify. */
function nodeOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
  tag: Uint8Array,
): Uint8Array | null {
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: POLY1305_TAG_SIZE });
  d.setAAD(aad, { plaintextLength: ct.length });
  d.setAuthTag(tag);
  const plain = d.update(ct);
  try {
    d.final();
  } catch {
    plain.fill(0);
    return null;
  }
  return plain;
}

/** A ChaCha20-Poly1305 implementation: `backend` option, else TUNNELPLANE_BACKEND, else wasm. */
export function createChaCha20Poly1305(options: ChaChaOptions = {}): ChaCha20Poly1305 {
  const backend = resolveBackend(AEAD_FAMILY, options.backend);
  if (backend === 'node') return new NodeAead();
  return new WasmAead(options.instance ?? sharedInstance(options.flavor));
}

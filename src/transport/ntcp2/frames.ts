// NTCP2 data-phase frames (ntcp2-routerinfo.md §5.1): obfuscated length (2) || ChaCha20-Poly1305(k, n, ad = empty,
// blocks). One FrameSealer per sending direction and one FrameOpener per receiving direction hold the key, the
// nonce counter and the SipHash IV chain. The AEAD and the length mask sit behind small interfaces (FrameAead,
// LengthMask) so the batched WASM path can replace them without touching the session.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createChaCha20Poly1305, type ChaCha20Poly1305 } from '../../crypto/chacha20-poly1305.js';
import type { CryptoBackend } from '../../crypto/types.js';
import { FRAME_MAX, FRAME_MIN, TAG_SIZE } from './constants.js';
import { aeadNonce } from './noise.js';
import { SipHashLengthMask, type LengthMask } from './siphash.js';

/** ChaCha20-Poly1305 for one frame: 32-byte key, 12-byte nonce, empty associated data. */
export interface FrameAead {
  readonly name: string;
  /** Writes ciphertext || tag (plaintext.length + 16 bytes) into `out`. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void;
  /** Writes the plaintext (sealed.length - 16 bytes) into `out`; false (and `out` unspecified) on a bad tag. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
}

/** node:crypto (OpenSSL): a cipher object per frame, since node:crypto cannot change the nonce of one. */
export const nodeFrameAead: FrameAead = {
  name: 'node',
  seal(key, nonce, plaintext, out) {
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
    const n = c.update(plaintext);
    c.final();
    out.set(n, 0);
    out.set(c.getAuthTag(), plaintext.length);
  },
  open(key, nonce, sealed, out) {
    const len = sealed.length - TAG_SIZE;
    if (len < 0) return false;
    try {
      const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
      d.setAuthTag(sealed.subarray(len));
      const p = d.update(sealed.subarray(0, len));
      d.final();
      out.set(p, 0);
      return true;
    } catch {
      return false;
    }
  },
};

/** The repository's crypto core (src/crypto/poly1305.ts), WASM by default. */
export function coreFrameAead(backend?: CryptoBackend): FrameAead {
  const aead: ChaCha20Poly1305 = createChaCha20Poly1305(backend ? { backend } : {});
  return {
    name: `core-${aead.backend}`,
    seal(key, nonce, plaintext, out) {
      aead.seal(key, nonce, plaintext, undefined, out.subarray(0, plaintext.length + TAG_SIZE));
    },
    open(key, nonce, sealed, out) {
      if (sealed.length < TAG_SIZE) return false;
      try {
        aead.open(key, nonce, sealed, undefined, out.subarray(0, sealed.length - TAG_SIZE));
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Frames of at least this many bytes go to node:crypto, smaller ones to the crypto core: OpenSSL's AVX ChaCha20-
 * Poly1305 is faster on long frames despite its per-frame cipher object, the WASM core on short ones
 * (docs/router-data-path.md, "Frame crypto").
 */
export const HYBRID_AEAD_THRESHOLD = 3072;

/** Crypto core below `threshold` bytes of plaintext, node:crypto from there on: same bytes, whichever runs. */
export function hybridFrameAead(threshold = HYBRID_AEAD_THRESHOLD, small: FrameAead = coreFrameAead()): FrameAead {
  return {
    name: `hybrid-${small.name}-node@${threshold}`,
    seal(key, nonce, plaintext, out) {
      (plaintext.length < threshold ? small : nodeFrameAead).seal(key, nonce, plaintext, out);
    },
    open(key, nonce, sealed, out) {
      return (sealed.length - TAG_SIZE < threshold ? small : nodeFrameAead).open(key, nonce, sealed, out);
    },
  };
}

let defaultAead: FrameAead | undefined;
/** The default frame AEAD: hybridFrameAead (crypto core for short frames, node:crypto for long ones). */
export function defaultFrameAead(): FrameAead {
  defaultAead ??= hybridFrameAead();
  return defaultAead;
}

/** Largest nonce we use: counters stay exact JS integers; a session must reconnect long before (§5.1 step 4). */
export const NONCE_LIMIT = Number.MAX_SAFE_INTEGER;

/** Sending direction: key, nonce counter n, SipHash length chain. */
export class FrameSealer {
  private readonly key: Uint8Array;
  private readonly mask: LengthMask;
  private readonly aead: FrameAead;
  private readonly nonce = new Uint8Array(12);
  /** Frames sealed so far (= the next nonce). */
  n = 0;

  constructor(key: Uint8Array, sipkeys: Uint8Array, aead: FrameAead = defaultFrameAead(), mask?: LengthMask) {
    if (key.length !== 32) throw new RangeError('frame key must be 32 bytes');
    this.key = Uint8Array.from(key);
    this.mask = mask ?? new SipHashLengthMask(sipkeys);
    this.aead = aead;
  }

  /** Bytes on the wire for a frame carrying `plaintextLength` bytes of blocks. */
  static wireLength(plaintextLength: number): number {
    return 2 + plaintextLength + TAG_SIZE;
  }

  /**
   * Seals one frame into `out` at `offset` (2 + plaintext.length + 16 bytes) and returns the number of bytes written.
   * Throws RangeError for a plaintext outside 0..65519 bytes or an exhausted nonce (caller bugs, not network input).
   */
  sealInto(plaintext: Uint8Array, out: Uint8Array, offset = 0): number {
    const len = plaintext.length + TAG_SIZE;
    if (len > FRAME_MAX) throw new RangeError(`frame plaintext of ${plaintext.length} bytes exceeds 65519`);
    if (this.n >= NONCE_LIMIT) throw new RangeError('frame nonce exhausted: reconnect');
    const m = this.mask.next() ^ len;
    out[offset] = m >>> 8;
    out[offset + 1] = m & 0xff;
    aeadNonce(this.n++, this.nonce);
    this.aead.seal(this.key, this.nonce, plaintext, out.subarray(offset + 2, offset + 2 + len));
    return 2 + len;
  }

  seal(plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(FrameSealer.wireLength(plaintext.length));
    this.sealInto(plaintext, out, 0);
    return out;
  }

  wipe(): void {
    this.key.fill(0);
    this.mask.wipe();
  }
}

/** Receiving direction. Call readLength once per frame, then open with exactly that many bytes. */
export class FrameOpener {
  private readonly key: Uint8Array;
  private readonly mask: LengthMask;
  private readonly aead: FrameAead;
  private readonly nonce = new Uint8Array(12);
  /** Frames opened so far, valid or not (= the next nonce). */
  n = 0;

  constructor(key: Uint8Array, sipkeys: Uint8Array, aead: FrameAead = defaultFrameAead(), mask?: LengthMask) {
    if (key.length !== 32) throw new RangeError('frame key must be 32 bytes');
    this.key = Uint8Array.from(key);
    this.mask = mask ?? new SipHashLengthMask(sipkeys);
    this.aead = aead;
  }

  /**
   * De-obfuscates the 2-byte length of the next frame (advancing the SipHash chain). Returns the length of the
   * sealed frame that follows, or -1 when it is below the 16-byte minimum (i2pd closes then, §4.10).
   */
  readLength(b0: number, b1: number): number {
    const len = (((b0 << 8) | b1) ^ this.mask.next()) & 0xffff;
    return len < FRAME_MIN ? -1 : len;
  }

  /** Opens the sealed frame into `out` (sealed.length - 16 bytes). False on a bad tag; the nonce advances anyway. */
  open(sealed: Uint8Array, out: Uint8Array): boolean {
    if (this.n >= NONCE_LIMIT) return false;
    aeadNonce(this.n++, this.nonce);
    return this.aead.open(this.key, this.nonce, sealed, out);
  }

  wipe(): void {
    this.key.fill(0);
    this.mask.wipe();
  }
}

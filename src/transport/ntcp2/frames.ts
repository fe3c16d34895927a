// NTCP2 data-phase frames (ntcp2-routerinfo.md §5.1): obfuscated length (2) || ChaCha20-Poly1305(k, n, ad = empty,
// blocks). One FrameSealer per sending direction and one FrameOpener per receiving direction hold the key, the
// nonce counter and the SipHash IV chain. The AEAD and the length mask sit behind small interfaces (FrameAead,
// LengthMask), so the session does not know which backend runs. FrameBatch seals or opens several frames (one
// session's or several sessions') in one call of the WASM frame kernel (assembly/ntcp2.ts).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AEAD_FAMILY, createChaCha20Poly1305, type ChaCha20Poly1305 } from '../../crypto/chacha20-poly1305.js';
import { resolveBackend } from '../../crypto/backend.js';
import type { CryptoBackend } from '../../crypto/types.js';
import { IO_SIZE, MAX_BATCH, STATUS_BAD_MAC, STATUS_OK } from '../../constants.js';
import { sharedInstance, type WasmInstance } from '../../wasm/loader.js';
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
 * One frame per call of the WASM frame kernel (assembly/ntcp2.ts, the one FrameBatch uses): the same bytes as
 * coreFrameAead('wasm') without the general AEAD API's per-call argument checks and AAD staging. The key is staged
 * per call and wiped by the kernel; an opened frame's plaintext is wiped from WASM memory once copied out.
 */
export function wasmFrameAead(instance: WasmInstance = sharedInstance()): FrameAead {
  const sealFn = instance.exports.ntcp2SealFrames as FramesFn;
  const openFn = instance.exports.ntcp2OpenFrames as FramesFn;
  if (typeof sealFn !== 'function' || typeof openFn !== 'function') {
    throw new Error('tunnelplane: this WASM build has no NTCP2 frame kernels; run `npm run build:wasm`');
  }
  const { u8, u32, regions } = instance;
  const data = regions.IO + 2;
  const stage = (key: Uint8Array, nonce: Uint8Array, bytes: Uint8Array, len: number): void => {
    u8.set(key, regions.KEY_IN);
    u8.set(nonce, regions.MSG_PARAM);
    u32[regions.MSG_LEN >>> 2] = len;
    u8.set(detachedFrom(u8, bytes), data);
  };
  return {
    name: 'wasm-frame',
    seal(key, nonce, plaintext, out) {
      if (plaintext.length + TAG_SIZE > FRAME_MAX) {
        throw new RangeError(`frame plaintext of ${plaintext.length} bytes exceeds 65519`);
      }
      stage(key, nonce, plaintext, plaintext.length);
      if (sealFn(1) !== 1) throw new Error('tunnelplane: ntcp2SealFrames rejected validated input');
      out.set(u8.subarray(data, data + plaintext.length + TAG_SIZE));
    },
    open(key, nonce, sealed, out) {
      const len = sealed.length - TAG_SIZE;
      if (len < 0 || sealed.length > FRAME_MAX || out.length < len) return false;
      stage(key, nonce, sealed, len);
      const ok = openFn(1) === 1;
      if (ok) out.set(u8.subarray(data, data + len));
      u8.fill(0, data, data + len);
      return ok;
    },
  };
}

/**
 * Frames up to this many plaintext bytes go to the WASM frame kernel, larger ones to node:crypto: OpenSSL's
 * assembly outruns the WASM kernels on long inputs once its per-call cost (a cipher object per frame) is paid off.
 * Crossover and figures: docs/ntcp2.md §5.
 */
export const FRAME_AEAD_SPLIT = 4096;

/** `small` for frames of at most `split` plaintext bytes, `large` above: both must compute the same AEAD. */
export function sizedFrameAead(small: FrameAead, large: FrameAead, split = FRAME_AEAD_SPLIT): FrameAead {
  return {
    name: `${small.name}<=${split}<${large.name}`,
    seal: (key, nonce, plaintext, out) => (plaintext.length <= split ? small : large).seal(key, nonce, plaintext, out),
    open: (key, nonce, sealed, out) =>
      (sealed.length - TAG_SIZE <= split ? small : large).open(key, nonce, sealed, out),
  };
}

let defaultAead: FrameAead | undefined;
/**
 * The default frame AEAD: the WASM frame kernel for frames up to FRAME_AEAD_SPLIT bytes, node:crypto above. With
 * the AEAD forced to node (TUNNELPLANE_BACKEND=node) it is node:crypto throughout.
 */
export function defaultFrameAead(): FrameAead {
  defaultAead ??=
    resolveBackend(AEAD_FAMILY) === 'node' ? nodeFrameAead : sizedFrameAead(wasmFrameAead(), nodeFrameAead);
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

  /**
   * Takes the next nonce and SipHash mask for a frame sealed elsewhere (FrameBatch): writes the key at `key[keyAt]`
   * and the nonce at `nonce[nonceAt]`, returns the obfuscated length field. The caller checked the length and the
   * nonce limit.
   */
  stageSeal(plaintextLength: number, key: Uint8Array, keyAt: number, nonce: Uint8Array, nonceAt: number): number {
    key.set(this.key, keyAt);
    aeadNonce(this.n++, this.nonce);
    nonce.set(this.nonce, nonceAt);
    return (this.mask.next() ^ (plaintextLength + TAG_SIZE)) & 0xffff;
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
  /** Set by the first frame that failed to open: the stream is broken and nothing after it is opened. */
  private broken = false;

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

  /**
   * Opens the sealed frame into `out` (sealed.length - 16 bytes). False on a bad tag; the nonce advances anyway, and
   * every later frame is refused too (a stream with a forged or lost frame cannot be resynchronised, §5.1).
   */
  open(sealed: Uint8Array, out: Uint8Array): boolean {
    if (this.n >= NONCE_LIMIT || this.broken) {
      this.n++;
      this.broken = true;
      return false;
    }
    aeadNonce(this.n++, this.nonce);
    if (this.aead.open(this.key, this.nonce, sealed, out)) return true;
    this.broken = true;
    return false;
  }

  /** True once a frame failed to open. */
  get failed(): boolean {
    return this.broken;
  }

  /**
   * Takes the next nonce for a frame opened elsewhere (FrameBatch): key to `key[keyAt]`, nonce to `nonce[nonceAt]`.
   * False (nonce consumed, nothing written) when the stream is already broken or the nonce is exhausted.
   */
  stageOpen(key: Uint8Array, keyAt: number, nonce: Uint8Array, nonceAt: number): boolean {
    if (this.n >= NONCE_LIMIT || this.broken) {
      this.n++;
      this.broken = true;
      return false;
    }
    key.set(this.key, keyAt);
    aeadNonce(this.n++, this.nonce);
    nonce.set(this.nonce, nonceAt);
    return true;
  }

  /** A frame opened elsewhere failed its tag: the stream is broken. */
  breakStream(): void {
    this.broken = true;
  }

  wipe(): void {
    this.key.fill(0);
    this.mask.wipe();
  }
}

/** Status of a batch frame that was not opened because an earlier frame of its stream failed (§5.1). */
export const FRAME_STREAM_BROKEN = 0xff;

type FramesFn = (n: number) => number;

/**
 * Seals or opens several frames in one call of the WASM core. Frames of one direction keep their order: nonces and
 * the SipHash chain advance in the order the frames are given, exactly as frame-by-frame sealing would. Keys are
 * staged per call into the kernel's key area and wiped by the kernel; nothing of a session stays in WASM memory.
 * A batch larger than the kernel takes (MAX_BATCH frames, or IO_SIZE bytes) is split into several calls.
 */
export class FrameBatch {
  private readonly inst: WasmInstance;
  private readonly sealFn: FramesFn;
  private readonly openFn: FramesFn;
  /** Per call: which frames were handed to the kernel (a broken stream's are not). */
  private readonly staged = new Uint8Array(MAX_BATCH);

  constructor(instance: WasmInstance = sharedInstance()) {
    this.inst = instance;
    this.sealFn = instance.exports.ntcp2SealFrames as FramesFn;
    this.openFn = instance.exports.ntcp2OpenFrames as FramesFn;
    if (typeof this.sealFn !== 'function' || typeof this.openFn !== 'function') {
      throw new Error('tunnelplane: this WASM build has no NTCP2 frame kernels; run `npm run build:wasm`');
    }
  }

  /** Bytes on the wire of `plaintexts` sealed as frames. */
  static wireLength(plaintexts: readonly Uint8Array[], count = plaintexts.length): number {
    let n = 0;
    for (let i = 0; i < count; i++) n += FrameSealer.wireLength(plaintexts[i]!.length);
    return n;
  }

  /**
   * Seals frame i = plaintexts[i] with sealers[i] (i < count) into `out` at `offset`, back to back as on the wire,
   * and returns the bytes written. Throws RangeError, before any nonce is taken, for a plaintext over 65519 bytes,
   * an exhausted nonce or an `out` too small (caller bugs, not network input).
   */
  seal(
    sealers: readonly FrameSealer[],
    plaintexts: readonly Uint8Array[],
    out: Uint8Array,
    offset = 0,
    count = plaintexts.length,
  ): number {
    if (sealers.length < count || plaintexts.length < count) {
      throw new RangeError('frame batch: fewer sealers or plaintexts than count');
    }
    const need = FrameBatch.wireLength(plaintexts, count);
    if (offset < 0 || offset + need > out.length) {
      throw new RangeError(`frame batch: out needs ${need} bytes at ${offset}`);
    }
    for (let i = 0; i < count; i++) {
      const len = plaintexts[i]!.length;
      if (len + TAG_SIZE > FRAME_MAX) throw new RangeError(`frame plaintext of ${len} bytes exceeds 65519`);
      // Conservative (as if every frame were this sealer's); the limit is 2^53, so it never refuses a real batch.
      if (sealers[i]!.n + count > NONCE_LIMIT) throw new RangeError('frame nonce exhausted: reconnect');
    }
    const { u8, u32, regions } = this.inst;
    const lens = regions.MSG_LEN >>> 2;
    let i = 0;
    let at = offset;
    while (i < count) {
      // One kernel call: as many frames as fit MAX_BATCH and IO.
      let n = 0,
        bytes = 0;
      while (i + n < count && n < MAX_BATCH) {
        const w = FrameSealer.wireLength(plaintexts[i + n]!.length);
        if (bytes + w > IO_SIZE) break;
        bytes += w;
        n++;
      }
      let io = regions.IO;
      for (let j = 0; j < n; j++) {
        const p = detachedFrom(u8, plaintexts[i + j]!);
        const masked = sealers[i + j]!.stageSeal(p.length, u8, regions.KEY_IN + 32 * j, u8, regions.MSG_PARAM + 16 * j);
        u32[lens + j] = p.length;
        u8[io] = masked >>> 8;
        u8[io + 1] = masked & 0xff;
        u8.set(p, io + 2);
        io += 2 + p.length + TAG_SIZE;
      }
      if (this.sealFn(n) !== n) {
        u8.fill(0, regions.KEY_IN, regions.KEY_IN + 32 * n);
        throw new Error('tunnelplane: ntcp2SealFrames rejected validated input');
      }
      out.set(u8.subarray(regions.IO, regions.IO + bytes), at);
      at += bytes;
      i += n;
    }
    return at - offset;
  }

  /**
   * Opens frame i = sealed[i] (ciphertext || tag, its length field already read with openers[i].readLength) with
   * openers[i] into outs[i] (sealed[i].length - 16 bytes). status[i] = STATUS_OK, STATUS_BAD_MAC (this frame's
   * tag failed) or FRAME_STREAM_BROKEN (an earlier frame of the same opener failed, in this batch or before): only
   * frames with STATUS_OK were written to outs. Frames of other openers are unaffected. Returns the OK count.
   */
  open(
    openers: readonly FrameOpener[],
    sealed: readonly Uint8Array[],
    outs: readonly Uint8Array[],
    status: Uint8Array,
    count = sealed.length,
  ): number {
    if (openers.length < count || sealed.length < count || outs.length < count || status.length < count) {
      throw new RangeError('frame batch: fewer openers, frames, outputs or status bytes than count');
    }
    for (let i = 0; i < count; i++) {
      const len = sealed[i]!.length;
      if (len < TAG_SIZE || len > FRAME_MAX) throw new RangeError(`frame batch: sealed frame of ${len} bytes`);
      if (outs[i]!.length < len - TAG_SIZE) {
        throw new RangeError(`frame batch: outs[${i}] needs ${len - TAG_SIZE} bytes`);
      }
    }
    const { u8, u32, regions } = this.inst;
    const lens = regions.MSG_LEN >>> 2;
    const staged = this.staged;
    let ok = 0;
    let i = 0;
    while (i < count) {
      let n = 0,
        bytes = 0;
      while (i + n < count && n < MAX_BATCH) {
        const w = 2 + sealed[i + n]!.length;
        if (bytes + w > IO_SIZE) break;
        bytes += w;
        n++;
      }
      // Stage: frames of a stream already broken are not handed to the kernel.
      let io = regions.IO;
      let k = 0;
      for (let j = 0; j < n; j++) {
        const s = sealed[i + j]!;
        staged[j] = 0;
        if (!openers[i + j]!.stageOpen(u8, regions.KEY_IN + 32 * k, u8, regions.MSG_PARAM + 16 * k)) continue;
        staged[j] = 1;
        u32[lens + k] = s.length - TAG_SIZE;
        u8.set(detachedFrom(u8, s), io + 2);
        io += 2 + s.length;
        k++;
      }
      if (this.openFn(k) < 0) {
        u8.fill(0, regions.KEY_IN, regions.KEY_IN + 32 * k);
        throw new Error('tunnelplane: ntcp2OpenFrames rejected validated input');
      }
      // Deliver in order; a failure breaks its opener, so its later frames of this batch are withheld.
      io = regions.IO;
      k = 0;
      for (let j = 0; j < n; j++) {
        const o = openers[i + j]!;
        if (!staged[j]) {
          status[i + j] = FRAME_STREAM_BROKEN;
          continue;
        }
        const len = sealed[i + j]!.length - TAG_SIZE;
        const good = u8[regions.MSG_STATUS + k] === STATUS_OK;
        if (o.failed) {
          status[i + j] = FRAME_STREAM_BROKEN;
        } else if (good) {
          outs[i + j]!.set(u8.subarray(io + 2, io + 2 + len));
          status[i + j] = STATUS_OK;
          ok++;
        } else {
          o.breakStream();
          status[i + j] = STATUS_BAD_MAC;
        }
        io += 2 + len + TAG_SIZE;
        k++;
      }
      // Plaintext must not linger in shared WASM memory.
      u8.fill(0, regions.IO, io);
      i += n;
    }
    return ok;
  }
}

/** `x`, or a copy when it is a view of the WASM memory the batch stages into. */
function detachedFrom(u8: Uint8Array, x: Uint8Array): Uint8Array {
  return x.buffer === u8.buffer ? x.slice() : x;
}

// Batched AES tunnel layers with node:crypto (OpenSSL, AES-NI): long-lived cipher objects per hop key, so a
// message costs OpenSSL calls but no cipher setup (tunnel-crypto-aes.md §2).
//
// What can be merged across messages of one hop in one batch, and what cannot:
// - the IV steps are independent per message: all X = E(ivKey, IV) in one ECB call, all IV' = E(ivKey, X) in one;
// - CBC *encryption* (P) is a serial chain inside each message, and the first block of message i+1 would need the
//   last ciphertext block of message i *before* the call -- so one CBC update per message. The long-lived CBC
//   object keeps chaining across calls: we fold each message's IV X into its first block together with the
//   cipher's current chain value (P1 ^ X ^ chain), which makes the object start the message with X;
// - CBC *decryption* (P^-1, creators) is parallel: all messages of a hop go through one CBC update, then the first
//   block of each message is corrected with (previous ciphertext block ^ X).
import { createCipheriv, createDecipheriv, type Cipher as Cipheriv, type Decipher as Decipheriv } from 'node:crypto';
import { DATA_OFFSET, DATA_SIZE, IV_OFFSET, IV_SIZE, TUNNEL_DATA_SIZE } from '../constants.js';

const ZERO_IV = new Uint8Array(16);

/** Cipher objects of one hop's keys. `wipe()` ends them (OpenSSL frees and cleanses the contexts). */
export class NodeAesHop {
  private layerKey: Buffer;
  private ivKey: Buffer;
  private ecbEnc: Cipheriv | null = null;
  /** ECB with the layer key: CBC encryption of many messages run block by block across them (encryptInterleaved). */
  private ecbLayer: Cipheriv | null = null;
  private bases = new Int32Array(0);
  private ecbDec: Decipheriv | null = null;
  private cbcEnc: Cipheriv | null = null;
  private cbcDec: Decipheriv | null = null;
  /** Current CBC chain values of the long-lived objects (the last ciphertext block they saw). */
  private readonly encChain = new Uint8Array(16);
  private readonly decChain = new Uint8Array(16);
  /** Set by wipe(): the cipher objects are created lazily, and must not come back from the zeroed keys. */
  private wiped = false;

  constructor(layerKey: Uint8Array, ivKey: Uint8Array) {
    this.layerKey = Buffer.from(layerKey);
    this.ivKey = Buffer.from(ivKey);
  }

  private encObjects(): [Cipheriv, Cipheriv] {
    if (!this.ecbEnc) {
      if (this.wiped) throw new Error('this hop was wiped');
      this.ecbEnc = createCipheriv('aes-256-ecb', this.ivKey, null).setAutoPadding(false);
      this.cbcEnc = createCipheriv('aes-256-cbc', this.layerKey, ZERO_IV).setAutoPadding(false);
      this.encChain.fill(0);
    }
    return [this.ecbEnc, this.cbcEnc!];
  }

  private decObjects(): [Decipheriv, Decipheriv] {
    if (!this.ecbDec) {
      if (this.wiped) throw new Error('this hop was wiped');
      this.ecbDec = createDecipheriv('aes-256-ecb', this.ivKey, null).setAutoPadding(false);
      this.cbcDec = createDecipheriv('aes-256-cbc', this.layerKey, ZERO_IV).setAutoPadding(false);
      this.decChain.fill(0);
    }
    return [this.ecbDec, this.cbcDec!];
  }

  /**
   * P in place on the messages at body offsets `at[0..n)` of `buf` (each the start of a 1028-byte body).
   * `scratch` must hold n*16 bytes.
   */
  encrypt(buf: Uint8Array, at: ArrayLike<number>, n: number, scratch: Uint8Array): void {
    const [ecb, cbc] = this.encObjects();
    for (let i = 0; i < n; i++) scratch.set(buf.subarray(at[i]! + IV_OFFSET, at[i]! + IV_OFFSET + IV_SIZE), i * 16);
    const x = ecb.update(scratch.subarray(0, n * 16));
    const chain = this.encChain;
    for (let i = 0; i < n; i++) {
      const d = at[i]! + DATA_OFFSET;
      for (let j = 0; j < 16; j++) buf[d + j]! ^= x[i * 16 + j]! ^ chain[j]!;
      const out = cbc.update(buf.subarray(d, d + DATA_SIZE));
      buf.set(out, d);
      for (let j = 0; j < 16; j++) chain[j] = out[DATA_SIZE - 16 + j]!;
    }
    const iv2 = ecb.update(x);
    for (let i = 0; i < n; i++) buf.set(iv2.subarray(i * 16, i * 16 + 16), at[i]! + IV_OFFSET);
  }

  /**
   * The CBC step of P alone for one message: data at buf[d..d+1008) encrypted under IV = x[xo..xo+16) (the hybrid
   * backend computes the IV steps in WASM).
   */
  cbcEncryptOne(buf: Uint8Array, d: number, x: Uint8Array, xo: number): void {
    const cbc = this.encObjects()[1];
    const chain = this.encChain;
    for (let j = 0; j < 16; j++) buf[d + j]! ^= x[xo + j]! ^ chain[j]!;
    const out = cbc.update(buf.subarray(d, d + DATA_SIZE));
    buf.set(out, d);
    for (let j = 0; j < 16; j++) chain[j] = out[DATA_SIZE - 16 + j]!;
  }

  /**
   * P on many messages of this hop with CBC run "sideways": block j of every message in one ECB call with the layer
   * key (c_ij = E(p_ij ^ c_i,j-1)), 63 calls for the whole group instead of one CBC call per message. ECB over many
   * blocks is parallel in AES-NI, unlike CBC encryption, so for large groups this is faster. Bodies must be 4-byte
   * aligned (`words` is an Int32 view of `buf`). `scratch` must hold n*16 bytes and be 4-byte aligned.
   */
  encryptInterleaved(buf: Uint8Array, words: Int32Array, at: ArrayLike<number>, n: number, scratch: Uint8Array): void {
    const [ecb] = this.encObjects();
    if (!this.ecbLayer) this.ecbLayer = createCipheriv('aes-256-ecb', this.layerKey, null).setAutoPadding(false);
    const layer = this.ecbLayer;
    const blk = scratch.subarray(0, n * 16);
    for (let i = 0; i < n; i++) blk.set(buf.subarray(at[i]! + IV_OFFSET, at[i]! + IV_OFFSET + IV_SIZE), i * 16);
    const x = ecb.update(blk); // X_i, the CBC IV of message i
    const xw =
      (x.byteOffset & 3) === 0
        ? new Int32Array(x.buffer, x.byteOffset, n * 4)
        : new Int32Array(Uint8Array.from(x).buffer);
    const s = new Int32Array(blk.buffer, blk.byteOffset, n * 4);
    const bases = this.bases.length >= n ? this.bases : (this.bases = new Int32Array(n));
    for (let i = 0; i < n; i++) {
      const w = (at[i]! + DATA_OFFSET) >> 2;
      bases[i] = w;
      const q = 4 * i;
      s[q] = words[w]! ^ xw[q]!;
      s[q + 1] = words[w + 1]! ^ xw[q + 1]!;
      s[q + 2] = words[w + 2]! ^ xw[q + 2]!;
      s[q + 3] = words[w + 3]! ^ xw[q + 3]!;
    }
    const last = DATA_SIZE / 16 - 1;
    for (let j = 0; j <= last; j++) {
      const c = layer.update(blk);
      const cw =
        (c.byteOffset & 3) === 0
          ? new Int32Array(c.buffer, c.byteOffset, n * 4)
          : new Int32Array(Uint8Array.from(c).buffer);
      // Store block j of every message and stage block j+1 (plaintext XOR this ciphertext) in one pass.
      for (let i = 0; i < n; i++) {
        const w = bases[i]! + 4 * j;
        const q = 4 * i;
        const c0 = cw[q]!,
          c1 = cw[q + 1]!,
          c2 = cw[q + 2]!,
          c3 = cw[q + 3]!;
        words[w] = c0;
        words[w + 1] = c1;
        words[w + 2] = c2;
        words[w + 3] = c3;
        if (j < last) {
          s[q] = words[w + 4]! ^ c0;
          s[q + 1] = words[w + 5]! ^ c1;
          s[q + 2] = words[w + 6]! ^ c2;
          s[q + 3] = words[w + 7]! ^ c3;
        }
      }
    }
    const iv2 = ecb.update(x);
    for (let i = 0; i < n; i++) buf.set(iv2.subarray(i * 16, i * 16 + 16), at[i]! + IV_OFFSET);
  }

  /**
   * encryptInterleaved with the scatter / gather in WASM (hybrid backend): the n messages are in `mem` at
   * msg + i*1028, the ECB blocks at param + 16i (both in WASM memory), and `step(n, j)` is the kernel that moves
   * block j of every message between the ECB output and the bodies (assembly/layer.ts cbcSidewaysStep). The same
   * node:crypto calls as encryptInterleaved (2 + 63 for the group), without the JavaScript word loops.
   */
  encryptSideways(mem: Uint8Array, msg: number, param: number, n: number, step: (n: number, j: number) => void): void {
    const [ecb] = this.encObjects();
    if (!this.ecbLayer) this.ecbLayer = createCipheriv('aes-256-ecb', this.layerKey, null).setAutoPadding(false);
    const layer = this.ecbLayer;
    const blk = mem.subarray(param, param + n * 16);
    for (let i = 0; i < n; i++) {
      const o = msg + i * TUNNEL_DATA_SIZE + IV_OFFSET;
      blk.set(mem.subarray(o, o + IV_SIZE), i * 16);
    }
    const x = ecb.update(blk); // X_i, the CBC IV of message i
    blk.set(x);
    step(n, -1);
    for (let j = 0; j < DATA_SIZE / 16; j++) {
      blk.set(layer.update(blk));
      step(n, j);
    }
    const iv2 = ecb.update(x);
    for (let i = 0; i < n; i++) mem.set(iv2.subarray(i * 16, i * 16 + 16), msg + i * TUNNEL_DATA_SIZE + IV_OFFSET);
    x.fill(0);
    blk.fill(0);
  }

  /** P^-1 in place on the messages at `at[0..n)`. `scratch` must hold n*1008 bytes. */
  decrypt(buf: Uint8Array, at: ArrayLike<number>, n: number, scratch: Uint8Array): void {
    const [ecb, cbc] = this.decObjects();
    const ivs = scratch.subarray(0, n * 16);
    for (let i = 0; i < n; i++) ivs.set(buf.subarray(at[i]! + IV_OFFSET, at[i]! + IV_OFFSET + IV_SIZE), i * 16);
    const x = ecb.update(ivs);
    const data = scratch.subarray(0, n * DATA_SIZE);
    for (let i = 0; i < n; i++)
      data.set(buf.subarray(at[i]! + DATA_OFFSET, at[i]! + DATA_OFFSET + DATA_SIZE), i * DATA_SIZE);
    const lastCt = this.decChain;
    const out = cbc.update(data);
    for (let i = 0; i < n; i++) {
      const o = i * DATA_SIZE;
      // out's first block was XORed with the previous ciphertext block (the chain); make it X instead.
      for (let j = 0; j < 16; j++) {
        const prev = i === 0 ? lastCt[j]! : data[o - 16 + j]!;
        out[o + j]! ^= prev ^ x[i * 16 + j]!;
      }
    }
    lastCt.set(data.subarray(n * DATA_SIZE - 16, n * DATA_SIZE));
    for (let i = 0; i < n; i++) buf.set(out.subarray(i * DATA_SIZE, (i + 1) * DATA_SIZE), at[i]! + DATA_OFFSET);
    const iv0 = ecb.update(x);
    for (let i = 0; i < n; i++) buf.set(iv0.subarray(i * 16, i * 16 + 16), at[i]! + IV_OFFSET);
  }

  /** The key copies this object holds (for tests that check wiping). */
  keyMaterial(): Uint8Array[] {
    return [this.layerKey, this.ivKey];
  }

  /**
   * Zeroes the key copies and ends the OpenSSL contexts now: final() frees them, and OpenSSL cleanses them (even
   * when final() throws). The object refuses further use.
   */
  wipe(): void {
    this.wiped = true;
    this.layerKey.fill(0);
    this.ivKey.fill(0);
    this.encChain.fill(0);
    this.decChain.fill(0);
    for (const c of [this.ecbEnc, this.ecbDec, this.cbcEnc, this.cbcDec, this.ecbLayer]) {
      try {
        c?.final();
      } catch {
        /* nothing pending; final() only releases the context */
      }
    }
    this.ecbEnc = this.ecbDec = this.cbcEnc = this.cbcDec = this.ecbLayer = null;
  }
}

/** Offsets of bodies 0..count-1 of a contiguous batch (helper for callers with whole batches). */
export function bodyOffsets(count: number): Uint32Array {
  const at = new Uint32Array(count);
  for (let i = 0; i < count; i++) at[i] = i * TUNNEL_DATA_SIZE;
  return at;
}

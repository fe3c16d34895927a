// Primitive workloads of issue 3: one 1008-byte message (the layer-encrypted area of a TunnelData body) per
// operation, batches of independent messages, each message its own key (a different tunnel).
//   aes-cbc-1008   AES-256-CBC encryption, no padding, own key and IV per message
//   chacha20-1008  ChaCha20 (RFC 7539: 96-bit nonce, 32-bit counter), own key, nonce and counter per message
//   sha256-1008    SHA-256 of each message
import { createCipheriv, createHash } from 'node:crypto';
import { cbc, unsafe as nobleAes } from '@noble/ciphers/aes.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { defineWorkload, type Implementation, type Runner } from '../types.js';

const MSG = 1008;
const BATCHES = [1, 16, 64, 256] as const;

// ---------------------------------------------------------------------------------------------------------------
// aes-cbc-1008

export interface CbcInput {
  batch: number;
  /** 32 bytes per message. */
  keys: Uint8Array;
  /** 16 bytes per message. */
  ivs: Uint8Array;
  /** 1008 bytes per message, plaintext. */
  data: Uint8Array;
}

/** A runner that writes each message's result into `out` (the input stays as it was, so every run does the same work). */
function outRunner(out: Uint8Array, run: () => void): Runner {
  return { run, output: () => out };
}

/** noble with its key expanded once per message key (its public `cbc` re-expands on every call, so use `unsafe`). */
const nobleCbcExpanded: Implementation<CbcInput> = {
  description: '@noble/ciphers AES (T-tables), key expanded once per tunnel via unsafe.expandKeyLE, CBC loop here',
  setup(inp) {
    const xks = Array.from({ length: inp.batch }, (_, i) => nobleAes.expandKeyLE(inp.keys.subarray(32 * i, 32 * i + 32)));
    const out = new Uint8Array(inp.batch * MSG);
    // Word views (little-endian hosts; noble's LE key schedule matches them). Offsets are multiples of 4.
    const src = new Uint32Array(inp.data.buffer, inp.data.byteOffset, inp.data.length >>> 2);
    const dst = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
    const iv = new Uint32Array(inp.ivs.buffer.slice(inp.ivs.byteOffset, inp.ivs.byteOffset + inp.ivs.length));
    const words = MSG >>> 2;
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        const xk = xks[m]!;
        let s0 = iv[4 * m]!, s1 = iv[4 * m + 1]!, s2 = iv[4 * m + 2]!, s3 = iv[4 * m + 3]!;
        const base = m * words;
        for (let i = base; i < base + words; i += 4) {
          ({ s0, s1, s2, s3 } = nobleAes.encrypt(xk, s0 ^ src[i]!, s1 ^ src[i + 1]!, s2 ^ src[i + 2]!, s3 ^ src[i + 3]!));
          dst[i] = s0; dst[i + 1] = s1; dst[i + 2] = s2; dst[i + 3] = s3;
        }
      }
    });
  },
};

const nobleCbcPublic: Implementation<CbcInput> = {
  description: "@noble/ciphers public cbc(key, iv, { disablePadding }) per message (expands the key on each call)",
  setup(inp) {
    const out = new Uint8Array(inp.batch * MSG);
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        cbc(inp.keys.subarray(32 * m, 32 * m + 32), inp.ivs.subarray(16 * m, 16 * m + 16), { disablePadding: true })
          .encrypt(inp.data.subarray(MSG * m, MSG * m + MSG), out.subarray(MSG * m, MSG * m + MSG));
      }
    });
  },
};

const nodeNaiveCbc: Implementation<CbcInput> = {
  description: 'node:crypto createCipheriv per message',
  setup(inp) {
    const out = new Uint8Array(inp.batch * MSG);
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        const c = createCipheriv('aes-256-cbc', inp.keys.subarray(32 * m, 32 * m + 32), inp.ivs.subarray(16 * m, 16 * m + 16));
        c.setAutoPadding(false);
        out.set(c.update(inp.data.subarray(MSG * m, MSG * m + MSG)), MSG * m);
      }
    });
  },
};

export const aesCbc = defineWorkload<CbcInput>({
  id: 'aes-cbc-1008',
  description: 'AES-256-CBC encrypt of 1008-byte messages, each its own key and IV',
  bytesPerMessage: MSG,
  batches: BATCHES,
  ceiling: { algorithm: 'aes-256-cbc' },
  input: (batch, rng) => ({ batch, keys: rng.bytes(32 * batch), ivs: rng.bytes(16 * batch), data: rng.bytes(MSG * batch) }),
  impls: {
    noble: nobleCbcExpanded,
    'noble-cbc': nobleCbcPublic,
    'node-naive': nodeNaiveCbc,
  },
});

// ---------------------------------------------------------------------------------------------------------------
// chacha20-1008

export interface ChaChaInput {
  batch: number;
  /** 32 bytes per message. */
  keys: Uint8Array;
  /** 12 bytes per message. */
  nonces: Uint8Array;
  /** Starting block counter per message (kept below 2^32 - 16 so no implementation has to agree on a wrap). */
  counters: Uint32Array;
  /** 1008 bytes per message, plaintext. */
  data: Uint8Array;
}

const nobleChaCha: Implementation<ChaChaInput> = {
  description: '@noble/ciphers chacha20(key, nonce, data, out, counter) per message',
  setup(inp) {
    const out = new Uint8Array(inp.batch * MSG);
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        chacha20(inp.keys.subarray(32 * m, 32 * m + 32), inp.nonces.subarray(12 * m, 12 * m + 12),
          inp.data.subarray(MSG * m, MSG * m + MSG), out.subarray(MSG * m, MSG * m + MSG), inp.counters[m]);
      }
    });
  },
};

const nodeNaiveChaCha: Implementation<ChaChaInput> = {
  description: "node:crypto createCipheriv('chacha20') per message (its 16-byte IV is counter LE || nonce)",
  setup(inp) {
    const out = new Uint8Array(inp.batch * MSG);
    const iv = new Uint8Array(16);
    const ivView = new DataView(iv.buffer);
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        ivView.setUint32(0, inp.counters[m]!, true);
        iv.set(inp.nonces.subarray(12 * m, 12 * m + 12), 4);
        const c = createCipheriv('chacha20', inp.keys.subarray(32 * m, 32 * m + 32), iv);
        out.set(c.update(inp.data.subarray(MSG * m, MSG * m + MSG)), MSG * m);
      }
    });
  },
};

export const chacha = defineWorkload<ChaChaInput>({
  id: 'chacha20-1008',
  description: 'ChaCha20 (RFC 7539) of 1008-byte messages, each its own key, nonce and counter',
  bytesPerMessage: MSG,
  batches: BATCHES,
  ceiling: { algorithm: 'chacha20' },
  input: (batch, rng) => {
    const counters = new Uint32Array(batch);
    for (let i = 0; i < batch; i++) counters[i] = rng.int(0xffff_fff0);
    return { batch, keys: rng.bytes(32 * batch), nonces: rng.bytes(12 * batch), counters, data: rng.bytes(MSG * batch) };
  },
  impls: {
    noble: nobleChaCha,
    'node-naive': nodeNaiveChaCha,
  },
});

// ---------------------------------------------------------------------------------------------------------------
// sha256-1008

export interface ShaInput {
  batch: number;
  /** 1008 bytes per message. */
  data: Uint8Array;
}

const nobleSha: Implementation<ShaInput> = {
  description: '@noble/hashes sha256 per message',
  setup(inp) {
    const out = new Uint8Array(inp.batch * 32);
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) out.set(sha256(inp.data.subarray(MSG * m, MSG * m + MSG)), 32 * m);
    });
  },
};

const nodeNaiveSha: Implementation<ShaInput> = {
  description: "node:crypto createHash('sha256') per message",
  setup(inp) {
    const out = new Uint8Array(inp.batch * 32);
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        out.set(createHash('sha256').update(inp.data.subarray(MSG * m, MSG * m + MSG)).digest(), 32 * m);
      }
    });
  },
};

export const sha = defineWorkload<ShaInput>({
  id: 'sha256-1008',
  description: 'SHA-256 of 1008-byte messages',
  bytesPerMessage: MSG,
  batches: BATCHES,
  ceiling: { algorithm: 'sha256' },
  input: (batch, rng) => ({ batch, data: rng.bytes(MSG * batch) }),
  impls: {
    noble: nobleSha,
    'node-naive': nodeNaiveSha,
  },
});

export const workloads = [aesCbc, chacha, sha];

// Primitive workloads of issue 3: one 1008-byte message (the layer-encrypted area of a TunnelData body) per
// operation, batches of independent messages, each message its own key (a different tunnel).
//   aes-cbc-1008   AES-256-CBC encryption, no padding, own key and IV per message
//   chacha20-1008  ChaCha20 (RFC 7539: 96-bit nonce, 32-bit counter), own key, nonce and counter per message
//   sha256-1008    SHA-256 of each message
import { createCipheriv, createHash } from 'node:crypto';
import { cbc, unsafe as nobleAes } from '@noble/ciphers/aes.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createAes256 } from '../../crypto/aes.js';
import { createChaCha20 } from '../../crypto/chacha20.js';
import { createSha256 } from '../../crypto/sha256.js';
import { createInstance, type WasmFlavor, type WasmInstance } from '../../wasm/loader.js';
import { defineWorkload, Unavailable, type Implementation, type Runner } from '../types.js';

const MSG = 1008;
const BATCHES = [1, 16, 64, 256] as const;

// The tunnelplane implementations come in three forms:
//   tunnelplane              the default factory (`createAes256()` ...) on the caller's own buffers, copies in and
//                            out of WASM memory included: what a user gets without options;
//   tunnelplane-wasm[-plain] the WASM backend of one flavor with the messages already in the instance's MSG region,
//                            as the data plane keeps them: no copies, the kernels work in place;
//   tunnelplane-node         the node:crypto backend on the caller's buffers.
// The wasm forms use an instance of their own per flavor (own key slots and message memory), created once.

const instances = new Map<WasmFlavor, WasmInstance>();

function benchInstance(flavor: WasmFlavor): WasmInstance {
  let inst = instances.get(flavor);
  if (!inst) {
    try {
      inst = createInstance({ flavor });
    } catch (err) {
      throw new Unavailable(`WASM ${flavor} flavor: ${(err as Error).message}`);
    }
    instances.set(flavor, inst);
  }
  return inst;
}

/** `bytes` copied into the instance's MSG region (the data plane's message memory); returns the view. */
function inMsgRegion(inst: WasmInstance, bytes: Uint8Array): Uint8Array {
  const view = inst.u8.subarray(inst.regions.MSG, inst.regions.MSG + bytes.length);
  view.set(bytes);
  return view;
}

function slotsFor(batch: number): Uint32Array {
  return Uint32Array.from({ length: batch }, (_, i) => i);
}

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
    const xks = Array.from({ length: inp.batch }, (_, i) =>
      nobleAes.expandKeyLE(inp.keys.subarray(32 * i, 32 * i + 32)),
    );
    const out = new Uint8Array(inp.batch * MSG);
    // Word views (little-endian hosts; noble's LE key schedule matches them). Offsets are multiples of 4.
    const src = new Uint32Array(inp.data.buffer, inp.data.byteOffset, inp.data.length >>> 2);
    const dst = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
    const iv = new Uint32Array(inp.ivs.buffer.slice(inp.ivs.byteOffset, inp.ivs.byteOffset + inp.ivs.length));
    const words = MSG >>> 2;
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        const xk = xks[m]!;
        let s0 = iv[4 * m]!,
          s1 = iv[4 * m + 1]!,
          s2 = iv[4 * m + 2]!,
          s3 = iv[4 * m + 3]!;
        const base = m * words;
        for (let i = base; i < base + words; i += 4) {
          ({ s0, s1, s2, s3 } = nobleAes.encrypt(
            xk,
            s0 ^ src[i]!,
            s1 ^ src[i + 1]!,
            s2 ^ src[i + 2]!,
            s3 ^ src[i + 3]!,
          ));
          dst[i] = s0;
          dst[i + 1] = s1;
          dst[i + 2] = s2;
          dst[i + 3] = s3;
        }
      }
    });
  },
};

const nobleCbcPublic: Implementation<CbcInput> = {
  description: '@noble/ciphers public cbc(key, iv, { disablePadding }) per message (expands the key on each call)',
  setup(inp) {
    const out = new Uint8Array(inp.batch * MSG);
    return outRunner(out, () => {
      for (let m = 0; m < inp.batch; m++) {
        cbc(inp.keys.subarray(32 * m, 32 * m + 32), inp.ivs.subarray(16 * m, 16 * m + 16), {
          disablePadding: true,
        }).encrypt(inp.data.subarray(MSG * m, MSG * m + MSG), out.subarray(MSG * m, MSG * m + MSG));
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
        const c = createCipheriv(
          'aes-256-cbc',
          inp.keys.subarray(32 * m, 32 * m + 32),
          inp.ivs.subarray(16 * m, 16 * m + 16),
        );
        c.setAutoPadding(false);
        out.set(c.update(inp.data.subarray(MSG * m, MSG * m + MSG)), MSG * m);
      }
    });
  },
};

type AesMaker = () => ReturnType<typeof createAes256>;

/** CBC encryption of the batch in place, keys in slots 0..batch-1; `place` decides where the messages live. */
function tunnelplaneCbc(
  description: string,
  make: AesMaker,
  place: (bytes: Uint8Array) => Uint8Array,
): Implementation<CbcInput> {
  return {
    description,
    setup(inp) {
      const aes = make();
      for (let m = 0; m < inp.batch; m++) aes.setKey(m, inp.keys.subarray(32 * m, 32 * m + 32));
      const data = place(inp.data);
      const batch = {
        count: inp.batch,
        data,
        stride: MSG,
        offset: 0,
        length: MSG,
        slots: slotsFor(inp.batch),
        ivs: inp.ivs,
      };
      return {
        run: () => aes.cbcEncryptBatch(batch),
        output: () => data,
        close: () => {
          for (let m = 0; m < inp.batch; m++) aes.clearKey(m);
        },
      };
    },
  };
}

function wasmCbc(flavor: WasmFlavor): Implementation<CbcInput> {
  return tunnelplaneCbc(
    `createAes256({ flavor: '${flavor}' }).cbcEncryptBatch, bitsliced constant-time WASM, messages in WASM memory`,
    () => createAes256({ backend: 'wasm', instance: benchInstance(flavor) }),
    (bytes) => inMsgRegion(benchInstance(flavor), bytes),
  );
}

export const aesCbc = defineWorkload<CbcInput>({
  id: 'aes-cbc-1008',
  description: 'AES-256-CBC encrypt of 1008-byte messages, each its own key and IV',
  bytesPerMessage: MSG,
  batches: BATCHES,
  ceiling: { algorithm: 'aes-256-cbc' },
  input: (batch, rng) => ({
    batch,
    keys: rng.bytes(32 * batch),
    ivs: rng.bytes(16 * batch),
    data: rng.bytes(MSG * batch),
  }),
  impls: {
    tunnelplane: tunnelplaneCbc(
      'createAes256() default backend, cbcEncryptBatch on a caller buffer',
      () => createAes256(),
      (b) => b,
    ),
    'tunnelplane-wasm': wasmCbc('simd'),
    'tunnelplane-wasm-plain': wasmCbc('plain'),
    'tunnelplane-node': tunnelplaneCbc(
      "createAes256({ backend: 'node' }).cbcEncryptBatch",
      () => createAes256({ backend: 'node' }),
      (b) => b,
    ),
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
        chacha20(
          inp.keys.subarray(32 * m, 32 * m + 32),
          inp.nonces.subarray(12 * m, 12 * m + 12),
          inp.data.subarray(MSG * m, MSG * m + MSG),
          out.subarray(MSG * m, MSG * m + MSG),
          inp.counters[m],
        );
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

function tunnelplaneChaCha(
  description: string,
  make: () => ReturnType<typeof createChaCha20>,
  place: (bytes: Uint8Array) => Uint8Array,
): Implementation<ChaChaInput> {
  return {
    description,
    setup(inp) {
      const c = make();
      for (let m = 0; m < inp.batch; m++) c.setKey(m, inp.keys.subarray(32 * m, 32 * m + 32));
      const data = place(inp.data);
      const batch = {
        count: inp.batch,
        data,
        stride: MSG,
        offset: 0,
        length: MSG,
        slots: slotsFor(inp.batch),
        nonces: inp.nonces,
        counters: inp.counters,
      };
      return {
        run: () => c.xorBatch(batch),
        output: () => data,
        close: () => {
          for (let m = 0; m < inp.batch; m++) c.clearKey(m);
        },
      };
    },
  };
}

function wasmChaCha(flavor: WasmFlavor): Implementation<ChaChaInput> {
  return tunnelplaneChaCha(
    `createChaCha20({ flavor: '${flavor}' }).xorBatch, messages in WASM memory`,
    () => createChaCha20({ backend: 'wasm', instance: benchInstance(flavor) }),
    (bytes) => inMsgRegion(benchInstance(flavor), bytes),
  );
}

export const chacha = defineWorkload<ChaChaInput>({
  id: 'chacha20-1008',
  description: 'ChaCha20 (RFC 7539) of 1008-byte messages, each its own key, nonce and counter',
  bytesPerMessage: MSG,
  batches: BATCHES,
  ceiling: { algorithm: 'chacha20' },
  input: (batch, rng) => {
    const counters = new Uint32Array(batch);
    for (let i = 0; i < batch; i++) counters[i] = rng.int(0xffff_fff0);
    return {
      batch,
      keys: rng.bytes(32 * batch),
      nonces: rng.bytes(12 * batch),
      counters,
      data: rng.bytes(MSG * batch),
    };
  },
  impls: {
    tunnelplane: tunnelplaneChaCha(
      'createChaCha20() default backend, xorBatch on a caller buffer',
      () => createChaCha20(),
      (b) => b,
    ),
    'tunnelplane-wasm': wasmChaCha('simd'),
    'tunnelplane-wasm-plain': wasmChaCha('plain'),
    'tunnelplane-node': tunnelplaneChaCha(
      "createChaCha20({ backend: 'node' }).xorBatch (a cipher per message)",
      () => createChaCha20({ backend: 'node' }),
      (b) => b,
    ),
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
        out.set(
          createHash('sha256')
            .update(inp.data.subarray(MSG * m, MSG * m + MSG))
            .digest(),
          32 * m,
        );
      }
    });
  },
};

function tunnelplaneSha(
  description: string,
  make: () => ReturnType<typeof createSha256>,
  place: (bytes: Uint8Array) => Uint8Array,
): Implementation<ShaInput> {
  return {
    description,
    setup(inp) {
      const h = make();
      const data = place(inp.data);
      const out = new Uint8Array(inp.batch * 32);
      const batch = { count: inp.batch, data, stride: MSG, offset: 0, length: MSG };
      return {
        run: () => {
          h.hashBatch(batch, out);
        },
        output: () => out,
      };
    },
  };
}

function wasmSha(flavor: WasmFlavor): Implementation<ShaInput> {
  return tunnelplaneSha(
    `createSha256({ flavor: '${flavor}' }).hashBatch, messages in WASM memory`,
    () => createSha256({ backend: 'wasm', instance: benchInstance(flavor) }),
    (bytes) => inMsgRegion(benchInstance(flavor), bytes),
  );
}

export const sha = defineWorkload<ShaInput>({
  id: 'sha256-1008',
  description: 'SHA-256 of 1008-byte messages',
  bytesPerMessage: MSG,
  batches: BATCHES,
  ceiling: { algorithm: 'sha256' },
  input: (batch, rng) => ({ batch, data: rng.bytes(MSG * batch) }),
  impls: {
    tunnelplane: tunnelplaneSha(
      'createSha256() default backend, hashBatch on a caller buffer',
      () => createSha256(),
      (b) => b,
    ),
    'tunnelplane-wasm': wasmSha('simd'),
    'tunnelplane-wasm-plain': wasmSha('plain'),
    'tunnelplane-node': tunnelplaneSha(
      "createSha256({ backend: 'node' }).hashBatch (crypto.hash per message)",
      () => createSha256({ backend: 'node' }),
      (b) => b,
    ),
    noble: nobleSha,
    'node-naive': nodeNaiveSha,
  },
});

export const workloads = [aesCbc, chacha, sha];

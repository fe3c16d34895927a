// Poly1305 on its own (RFC 7539 §2.5), WASM only (assembly/poly1305.ts); the AEAD built on it is
// chacha20-poly1305.ts.
import { CHACHA_KEY_SIZE, IO_SIZE, POLY1305_TAG_SIZE } from '../constants.js';
import { sharedInstance, type WasmFlavor, type WasmInstance } from '../wasm/loader.js';
import { checkBytes, detached } from './utils.js';

/**
 * Poly1305 one-time MAC (RFC 7539 §2.5) of `message` under a 32-byte one-time key; WASM only (node:crypto has no
 * Poly1305 on its own). At most IO_SIZE bytes.
 */
export function poly1305(
  key: Uint8Array,
  message: Uint8Array,
  options: { instance?: WasmInstance; flavor?: WasmFlavor } = {},
): Uint8Array {
  checkBytes('key', key, CHACHA_KEY_SIZE);
  checkBytes('message', message);
  if (message.length > IO_SIZE) throw new RangeError(`tunnelplane: poly1305 takes at most ${IO_SIZE} bytes`);
  const inst = options.instance ?? sharedInstance(options.flavor);
  const { u8, regions } = inst;
  u8.set(detached(inst, key), regions.KEY_IN);
  u8.set(detached(inst, message), regions.IO);
  if ((inst.exports.poly1305One as (len: number) => number)(message.length) !== 0)
    throw new Error('tunnelplane: poly1305One failed');
  return u8.slice(regions.MSG_OUT, regions.MSG_OUT + POLY1305_TAG_SIZE);
}

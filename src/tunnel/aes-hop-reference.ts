// The AES reference hop: the tunnel layer transform P and its inverse on one TunnelData body, with node:crypto,
// message by message in the spec's own form (tunnel-crypto-aes.md §2, §6). Used by the conformance runner, the
// gateway's creator strip and the tests as the standard the batched backends (backends/) are held to.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AES256_KEY_SIZE, DATA_OFFSET, DATA_SIZE, IV_OFFSET, TUNNEL_DATA_SIZE } from '../constants.js';

/** The two keys of one hop. */
export interface HopKeys {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
}

function checkBody(body: Uint8Array): void {
  if (!(body instanceof Uint8Array)) throw new TypeError('body must be a Uint8Array');
  if (body.length !== TUNNEL_DATA_SIZE)
    throw new RangeError(`body must be ${TUNNEL_DATA_SIZE} bytes, not ${body.length}`);
}

export function checkHopKeys(keys: HopKeys, what = 'hop'): void {
  for (const name of ['layerKey', 'ivKey'] as const) {
    const k = keys?.[name];
    if (!(k instanceof Uint8Array)) throw new TypeError(`${what}.${name} must be a Uint8Array`);
    if (k.length !== AES256_KEY_SIZE) throw new RangeError(`${what}.${name} must be 32 bytes, not ${k.length}`);
  }
}

function ecb(encrypt: boolean, key: Uint8Array, block: Uint8Array): Buffer {
  const c = encrypt ? createCipheriv('aes-256-ecb', key, null) : createDecipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  return c.update(block);
}

function cbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = encrypt ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return c.update(data);
}

/** P in place on body[4..1027]: IV encrypted, data CBC-encrypted under it, IV encrypted again. Bytes 0..3 untouched. */
export function hopEncrypt(body: Uint8Array, keys: HopKeys): void {
  checkBody(body);
  checkHopKeys(keys);
  const x = ecb(true, keys.ivKey, body.subarray(IV_OFFSET, DATA_OFFSET));
  body.set(cbc(true, keys.layerKey, x, body.subarray(DATA_OFFSET, DATA_OFFSET + DATA_SIZE)), DATA_OFFSET);
  body.set(ecb(true, keys.ivKey, x), IV_OFFSET);
}

/** P^-1 in place on body[4..1027]. Bytes 0..3 untouched. */
export function hopDecrypt(body: Uint8Array, keys: HopKeys): void {
  checkBody(body);
  checkHopKeys(keys);
  const x = ecb(false, keys.ivKey, body.subarray(IV_OFFSET, DATA_OFFSET));
  body.set(cbc(false, keys.layerKey, x, body.subarray(DATA_OFFSET, DATA_OFFSET + DATA_SIZE)), DATA_OFFSET);
  body.set(ecb(false, keys.ivKey, x), IV_OFFSET);
}

/** The creator's strip: P^-1 of the last hop first and of hop 1 last (`hops` in forwarding order). */
export function creatorStrip(body: Uint8Array, hops: readonly HopKeys[]): void {
  for (let i = hops.length - 1; i >= 0; i--) hopDecrypt(body, hops[i]!);
}

/** What the hops do in forwarding order: P of hop 1 first (used to judge gateway output). */
export function applyHops(body: Uint8Array, hops: readonly HopKeys[]): void {
  for (const h of hops) hopEncrypt(body, h);
}

// Shared helpers of the framing tests: I2NP test messages, deterministic randomness (seeds: test/helpers/seed.ts).
import fc from 'fast-check';
import { encodeI2np } from '../../src/i2np/header.js';
import type { GatewayItem } from '../../src/frame/gateway.js';
import type { RandomSource } from '../../src/frame/random.js';

/** xorshift32 as a RandomSource: deterministic gateway IVs / padding for reproducible tests. */
export function seededRandom(seed: number): RandomSource {
  let x = seed >>> 0 || 1;
  return {
    fill(dest) {
      for (let i = 0; i < dest.length; i++) {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        dest[i] = x & 0xff;
      }
    },
  };
}

/** A Data-typed I2NP message with `payloadSize` bytes of payload filled from `fill`. */
export function i2npMessage(payloadSize: number, id: number, fill = 0): Uint8Array {
  const payload = new Uint8Array(payloadSize);
  for (let i = 0; i < payloadSize; i++) payload[i] = (i * 31 + id + fill) & 0xff;
  return encodeI2np(20, id >>> 0, 1_700_000_000_000, payload);
}

export const HASH_A = new Uint8Array(32).fill(0xa1);
export const HASH_B = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);

/** An item with the given delivery type. */
export function item(kind: 0 | 1 | 2, message: Uint8Array, tunnelId = 0x01020304): GatewayItem {
  if (kind === 0) return { delivery: 'LOCAL', message };
  if (kind === 1) return { delivery: 'TUNNEL', tunnelId, toHash: HASH_A, message };
  return { delivery: 'ROUTER', toHash: HASH_B, message };
}

export const deliveryArb = fc.constantFrom<0 | 1 | 2>(0, 1, 2);

export function hex(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : Buffer.from(b).toString('hex');
}

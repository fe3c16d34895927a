// Batch plumbing for engine tests.
import type { LayerBatch } from '../../src/tunnel/types.js';

export function makeBatch(bodies: Uint8Array[], prevHops: number[] | number = 0): LayerBatch {
  const count = bodies.length;
  const buf = new Uint8Array(count * 1028);
  bodies.forEach((b, i) => buf.set(b, i * 1028));
  const prev = new Uint32Array(count);
  for (let i = 0; i < count; i++) prev[i] = typeof prevHops === 'number' ? prevHops : prevHops[i]!;
  return {
    count,
    bodies: buf,
    prevHops: prev,
    status: new Uint8Array(count),
    nextHops: new Uint32Array(count),
    nextTunnelIds: new Uint32Array(count),
    roles: new Uint8Array(count),
  };
}

export function bodyOf(batch: LayerBatch, i: number): Uint8Array {
  return batch.bodies.slice(i * 1028, (i + 1) * 1028);
}

export function withId(body: Uint8Array, id: number): Uint8Array {
  const out = Uint8Array.from(body);
  new DataView(out.buffer).setUint32(0, id);
  return out;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

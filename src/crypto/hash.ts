// The one place the framing and I2NP code get SHA-256 from (tunnel checksum, tunnel-message.md §2.1; I2NP header
// chks, i2np.md §1): the project's SHA-256 interface (sha256.ts), created on first use, so TUNNELPLANE_BACKEND and
// its default choice apply here too. It sits in crypto/, below both, so neither imports the other for it.
//
// checksum32 needs only the first 4 digest bytes. With the node backend it makes the same OpenSSL one-shot call as
// sha256.ts but asks for a 'binary' (latin1) string instead of a Buffer: node allocates a Buffer's backing store per
// call, a string lives on the V8 heap; measured 1.5-2x cheaper per ~1 KB hash on this machine class
// (docs/framing.md, "Benchmarks").
import { hash as nodeHash } from 'node:crypto';
import { createSha256, type Sha256 } from './sha256.js';

let impl: Sha256 | undefined;
let nodeBackend = false;

function get(): Sha256 {
  if (impl === undefined) {
    impl = createSha256();
    nodeBackend = impl.backend === 'node';
  }
  return impl;
}

/** SHA-256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  return get().hash(data);
}

/** The first 4 bytes of SHA-256(data) as a big-endian unsigned 32-bit integer. */
export function checksum32(data: Uint8Array): number {
  const s = get();
  if (nodeBackend) {
    const d = nodeHash('sha256', data, 'binary');
    return ((d.charCodeAt(0) << 24) | (d.charCodeAt(1) << 16) | (d.charCodeAt(2) << 8) | d.charCodeAt(3)) >>> 0;
  }
  const h = s.hash(data);
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

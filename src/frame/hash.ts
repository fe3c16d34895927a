// The one place the framing code gets SHA-256 from (tunnel checksum, tunnel-message.md §2.1; I2NP header chks,
// i2np.md §1): the project's SHA-256 interface (src/crypto/sha256.ts), created on first use. Its default backend is
// node:crypto's one-shot hash, the fastest here for ~1 KB inputs; TUNNELPLANE_BACKEND=wasm switches it.
import { createSha256, type Sha256 } from '../crypto/sha256.js';

let impl: Sha256 | undefined;

/** SHA-256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  return (impl ??= createSha256()).hash(data);
}

// The one place the framing code gets SHA-256 from (tunnel checksum, tunnel-message.md §2.1; I2NP header chks,
// i2np.md §1). node:crypto's one-shot hash is the fastest SHA-256 on this machine class for ~1 KB inputs
// (architecture.md, "Measured facts"); when src/crypto/sha256.ts lands this becomes a one-line switch.
import { hash } from 'node:crypto';

/** SHA-256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer');
}

// I2P's text encodings: Base64 with '-' and '~' in place of '+' and '/' (common-structures, "Base64"), and the
// lowercase, unpadded RFC 4648 Base32 of a Destination hash used for `.b32.i2p` addresses.

export function i2pBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64').replace(/\+/g, '-').replace(/\//g, '~');
}

/** Decodes I2P Base64; returns undefined for characters outside the I2P alphabet. */
export function fromI2pBase64(s: string): Uint8Array | undefined {
  const t = s.trim();
  if (!/^[A-Za-z0-9\-~]*={0,2}$/.test(t)) return undefined;
  return new Uint8Array(Buffer.from(t.replace(/-/g, '+').replace(/~/g, '/'), 'base64'));
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function base32(b: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

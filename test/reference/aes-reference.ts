// A slow, readable AES-256 (FIPS-197) used only as a test oracle: byte-oriented, S-box computed from its definition
// (inverse in GF(2^8), then the affine map). Not constant time; never use it for real data.

function gmul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    const hi = a & 0x80;
    a = (a << 1) & 0xff;
    if (hi) a ^= 0x1b; // x^8 = x^4 + x^3 + x + 1
    b >>= 1;
  }
  return p;
}

const rotl8 = (x: number, n: number): number => ((x << n) | (x >>> (8 - n))) & 0xff;

export const SBOX = new Uint8Array(256);
export const INV_SBOX = new Uint8Array(256);
for (let x = 0; x < 256; x++) {
  let inv = 0;
  for (let y = 1; y < 256 && x !== 0; y++)
    if (gmul(x, y) === 1) {
      inv = y;
      break;
    }
  const s = inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63;
  SBOX[x] = s;
  INV_SBOX[s] = x;
}

/** The 15 round keys of a 32-byte key, 240 bytes (FIPS-197 §5.2). */
export function expandKey(key: Uint8Array): Uint8Array {
  const w = new Uint8Array(240);
  w.set(key);
  let rcon = 1;
  for (let i = 8; i < 60; i++) {
    let t = Array.from(w.subarray(4 * i - 4, 4 * i));
    if (i % 8 === 0) {
      t = [SBOX[t[1]!]! ^ rcon, SBOX[t[2]!]!, SBOX[t[3]!]!, SBOX[t[0]!]!];
      rcon = gmul(rcon, 2);
    } else if (i % 8 === 4) {
      t = t.map((b) => SBOX[b]!);
    }
    for (let j = 0; j < 4; j++) w[4 * i + j] = w[4 * (i - 8) + j]! ^ t[j]!;
  }
  return w;
}

// state byte index = 4 * column + row, as in the input block
function addRoundKey(s: Uint8Array, rk: Uint8Array, round: number): void {
  for (let i = 0; i < 16; i++) s[i]! ^= rk[16 * round + i]!;
}

function shiftRows(s: Uint8Array, inverse: boolean): void {
  const t = Uint8Array.from(s);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      const from = inverse ? (c - r + 4) % 4 : (c + r) % 4;
      s[4 * c + r] = t[4 * from + r]!;
    }
  }
}

function mixColumns(s: Uint8Array, inverse: boolean): void {
  const m = inverse ? [14, 11, 13, 9] : [2, 3, 1, 1];
  for (let c = 0; c < 4; c++) {
    const a = Array.from(s.subarray(4 * c, 4 * c + 4));
    for (let r = 0; r < 4; r++) {
      s[4 * c + r] =
        gmul(m[0]!, a[r]!) ^ gmul(m[1]!, a[(r + 1) % 4]!) ^ gmul(m[2]!, a[(r + 2) % 4]!) ^ gmul(m[3]!, a[(r + 3) % 4]!);
    }
  }
}

export function encryptBlock(rk: Uint8Array, block: Uint8Array): Uint8Array {
  const s = Uint8Array.from(block);
  addRoundKey(s, rk, 0);
  for (let round = 1; round <= 14; round++) {
    for (let i = 0; i < 16; i++) s[i] = SBOX[s[i]!]!;
    shiftRows(s, false);
    if (round < 14) mixColumns(s, false);
    addRoundKey(s, rk, round);
  }
  return s;
}

export function decryptBlock(rk: Uint8Array, block: Uint8Array): Uint8Array {
  const s = Uint8Array.from(block);
  addRoundKey(s, rk, 14);
  for (let round = 13; round >= 0; round--) {
    shiftRows(s, true);
    for (let i = 0; i < 16; i++) s[i] = INV_SBOX[s[i]!]!;
    addRoundKey(s, rk, round);
    if (round > 0) mixColumns(s, true);
  }
  return s;
}

export function cbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const rk = expandKey(key);
  const out = new Uint8Array(data.length);
  let prev: Uint8Array = Uint8Array.from(iv);
  for (let at = 0; at < data.length; at += 16) {
    const x = data.slice(at, at + 16).map((b, i) => b ^ prev[i]!);
    prev = encryptBlock(rk, x);
    out.set(prev, at);
  }
  return out;
}

export function cbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const rk = expandKey(key);
  const out = new Uint8Array(data.length);
  for (let at = 0; at < data.length; at += 16) {
    const prev = at === 0 ? iv : data.subarray(at - 16, at);
    out.set(
      decryptBlock(rk, data.subarray(at, at + 16)).map((b, i) => b ^ prev[i]!),
      at,
    );
  }
  return out;
}

// Generates docs/vectors/chacha-layer.json: known-answer vectors of the ChaCha tunnel layer profile
// (docs/chacha-layer.md) in the tunnelplane-vectors/1 format, `layer: "chacha"`.
//   node docs/vectors/generate-chacha-layer.mjs > docs/vectors/chacha-layer.json
// Deterministic: every key and input is SHA-256 of a label, so regenerating gives the same file.
// The expected outputs come from the transcription of docs/chacha-layer.md §3-§5 below, over @noble/ciphers only:
// nothing from src/ or dist/ (the code under test) is imported. test/layer-vectors.test.ts checks the file against a
// second reference (test/reference/layer-reference.ts) and runs it through the CLI.
import { createHash } from 'node:crypto';
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';

// --- the profile, from docs/chacha-layer.md ---

/** §3: the 12-byte nonce is domain (u32 little-endian) || nonce8; block counter 0. */
const nonce12 = (domain, nonce8) => {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(0, domain, true);
  n.set(nonce8, 4);
  return n;
};
const xorStream = (body, at, len, key, domain, nonce8) => {
  const ks = chacha20(key, nonce12(domain, nonce8), new Uint8Array(len));
  for (let i = 0; i < len; i++) body[at + i] ^= ks[i];
};
/** §4 forward layer on (tn = 4..12, on = 12..20, frame = 20..1012), in place. */
const forward = (b, hop) => {
  xorStream(b, 4, 8, hop.ivKey, 1, b.slice(12, 20));
  xorStream(b, 20, 992, hop.layerKey, 0, b.slice(4, 12));
  xorStream(b, 12, 8, hop.ivKey, 2, b.slice(4, 12));
};
/** §4 inverse layer, in place. */
const inverse = (b, hop) => {
  xorStream(b, 12, 8, hop.ivKey, 2, b.slice(4, 12));
  xorStream(b, 20, 992, hop.layerKey, 0, b.slice(4, 12));
  xorStream(b, 4, 8, hop.ivKey, 1, b.slice(12, 20));
};
/** §5 AEAD seal: nonce 0 || tunnelNonce, AD = bytes 0..20, frame 20..1012, tag at 1012. In place. */
const aeadSeal = (b, key) => {
  b.set(chacha20poly1305(key, nonce12(0, b.slice(4, 12)), b.slice(0, 20)).encrypt(b.slice(20, 1012)), 20);
};
/** §5 AEAD open in place; the tag bytes end zero. False (body untouched) when the tag does not verify. */
const aeadOpen = (b, key) => {
  let plain;
  try {
    plain = chacha20poly1305(key, nonce12(0, b.slice(4, 12)), b.slice(0, 20)).decrypt(b.slice(20, 1028));
  } catch {
    return false;
  }
  b.set(plain, 20);
  b.fill(0, 1012);
  return true;
};
/** §5 one hop: open (unless inbound gateway), forward, tunnel id := next, seal (unless outbound endpoint). */
const hopTransform = (b, keys, nextTunnelId) => {
  if (keys.inAeadKey && !aeadOpen(b, keys.inAeadKey)) return false;
  forward(b, keys);
  new DataView(b.buffer, b.byteOffset, 4).setUint32(0, nextTunnelId);
  if (keys.outAeadKey) aeadSeal(b, keys.outAeadKey);
  return true;
};
/** §4-§5 creator strip: open (inbound endpoint), inverse of the last hop first, seal (outbound gateway). */
const strip = (b, hops, { inAeadKey, outAeadKey }) => {
  if (inAeadKey && !aeadOpen(b, inAeadKey)) return false;
  for (let i = hops.length - 1; i >= 0; i--) inverse(b, hops[i]);
  if (outAeadKey) aeadSeal(b, outAeadKey);
  return true;
};

// --- the cases ---

const bytes = (label, n) => {
  const out = new Uint8Array(n);
  for (let i = 0, c = 0; i < n; c++) {
    const d = createHash('sha256').update(`tunnelplane chacha-layer vectors/${label}/${c}`).digest();
    out.set(d.subarray(0, Math.min(32, n - i)), i);
    i += 32;
  }
  return out;
};
const hex = (b) => Buffer.from(b).toString('hex');
const withId = (b, id) => { new DataView(b.buffer, b.byteOffset, 4).setUint32(0, id); return b; };
const u32 = (label) => new DataView(bytes(label, 4).buffer).getUint32(0);

const cases = [];
const hopKeys = (label) => ({ layerKey: bytes(`${label}/layerKey`, 32), ivKey: bytes(`${label}/nonceKey`, 32) });

// hop: participant (both AEAD keys), IBGW (no inAeadKey: local input), OBEP (no outAeadKey), tampered MAC.
for (const [i, role] of ['participant', 'participant', 'ibgw', 'obep', 'bad-mac'].entries()) {
  const label = `hop-${i}-${role}`;
  const k = hopKeys(label);
  const inAeadKey = role === 'ibgw' ? undefined : bytes(`${label}/inAeadKey`, 32);
  const outAeadKey = role === 'obep' ? undefined : bytes(`${label}/outAeadKey`, 32);
  const input = withId(bytes(`${label}/input`, 1028), u32(`${label}/rx`));
  if (inAeadKey) aeadSeal(input, inAeadKey);                  // a validly sealed body from the previous hop
  if (role === 'bad-mac') input[600] ^= 0x01;
  const nextTunnelId = u32(`${label}/next`);
  const out = Uint8Array.from(input);
  const ok = hopTransform(out, { ...k, inAeadKey, outAeadKey }, nextTunnelId);
  cases.push({
    kind: 'hop', name: `chacha-${label}`, layer: 'chacha',
    note: role === 'bad-mac' ? 'MAC does not verify: dropped (expect null)' : `one ${role} layer`,
    layerKey: hex(k.layerKey), nonceKey: hex(k.ivKey),
    ...(inAeadKey ? { inAeadKey: hex(inAeadKey) } : {}), ...(outAeadKey ? { outAeadKey: hex(outAeadKey) } : {}),
    nextTunnelId, input: hex(input), expect: ok ? hex(out) : null,
  });
}

// strip: IBEP (open with inAeadKey, then strip), OBGW (strip, then seal with outAeadKey), bare strip.
for (const [mode, ns] of [['ibep', [1, 2, 3, 8]], ['obgw', [1, 3, 8]], ['bare', [2]]]) {
  for (const n of ns) {
    const label = `strip-${mode}-${n}hops`;
    const hops = Array.from({ length: n }, (_, h) => hopKeys(`${label}/hop${h + 1}`));
    const inAeadKey = mode === 'ibep' ? bytes(`${label}/inAeadKey`, 32) : undefined;
    const outAeadKey = mode === 'obgw' ? bytes(`${label}/outAeadKey`, 32) : undefined;
    const input = withId(bytes(`${label}/input`, 1028), u32(`${label}/rx`));
    if (inAeadKey) aeadSeal(input, inAeadKey);
    const out = Uint8Array.from(input);
    if (!strip(out, hops, { inAeadKey, outAeadKey })) throw new Error(`${label}: unexpected MAC failure`);
    cases.push({
      kind: 'strip', name: `chacha-${label}`, layer: 'chacha',
      note: mode === 'ibep' ? 'inbound endpoint: AEAD open, then the last hop first'
        : mode === 'obgw' ? 'outbound gateway pre-processing: the last hop first, then AEAD seal' : 'layers only',
      hops: hops.map((h) => ({ layerKey: hex(h.layerKey), nonceKey: hex(h.ivKey) })),
      ...(inAeadKey ? { inAeadKey: hex(inAeadKey) } : {}), ...(outAeadKey ? { outAeadKey: hex(outAeadKey) } : {}),
      input: hex(input), expect: hex(out),
    });
  }
}

process.stdout.write(JSON.stringify({ format: 'tunnelplane-vectors/1', cases }, null, 1) + '\n');

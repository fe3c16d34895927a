// Generates docs/vectors/chacha-layer.json: known-answer vectors of the ChaCha tunnel layer profile
// (docs/chacha-layer.md) in the tunnelplane-vectors/1 format, `layer: "chacha"`.
//   npm run build:ts && node docs/vectors/generate-chacha-layer.mjs > docs/vectors/chacha-layer.json
// Deterministic: every key and input is SHA-256 of a label, so regenerating gives the same file.
// test/chacha-vectors.test.ts checks the file against an independent computation (@noble/ciphers) and the CLI.
import { createHash } from 'node:crypto';
import { chachaHop, chachaStrip, chachaAeadSeal } from '../../dist/src/tunnel/chacha-layer.js';

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
  if (inAeadKey) chachaAeadSeal(input, inAeadKey);            // a validly sealed body from the previous hop
  if (role === 'bad-mac') input[600] ^= 0x01;
  const nextTunnelId = u32(`${label}/next`);
  const out = Uint8Array.from(input);
  const ok = chachaHop(out, { ...k, inAeadKey, outAeadKey }, nextTunnelId);
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
    if (inAeadKey) chachaAeadSeal(input, inAeadKey);
    const out = Uint8Array.from(input);
    if (!chachaStrip(out, hops, { inAeadKey, outAeadKey })) throw new Error(`${label}: unexpected MAC failure`);
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

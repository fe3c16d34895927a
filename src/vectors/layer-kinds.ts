// The `hop` and `strip` kinds of tunnelplane-vectors/1 (../shared/spec/vectors-format.md), for both layers:
//   aes:    hop = P then body[0..3] := nextTunnelId; strip = P^-1 of the last hop first (tunnel-crypto-aes.md §2, §3)
//   chacha: our profile (docs/chacha-layer.md). hop fields: layerKey, nonceKey, inAeadKey? (absent: IBGW, local
//           input), outAeadKey? (absent: OBEP); strip fields: hops [{layerKey, nonceKey}], inAeadKey? (IBEP: open
//           first), outAeadKey? (OBGW: seal last). A case whose MAC does not verify expects `expect: null`.
import { TUNNEL_DATA_SIZE } from '../constants.js';
import { hopEncrypt, creatorStrip, type HopKeys } from '../tunnel/aes-hop-reference.js';
import { chachaHop, chachaStrip } from '../tunnel/chacha-layer.js';
import {
  arrayField,
  hexField,
  hexValue,
  toHex,
  uintField,
  VectorsFormatError,
  type CaseResult,
  type KindHandler,
  type VectorCase,
} from './format.js';

const MAX_HOPS = 8;

function layerOf(c: VectorCase): 'aes' | 'chacha' {
  return c.layer ?? 'aes';
}

function optionalKey(c: VectorCase, field: string): Uint8Array | undefined {
  return c[field] === undefined ? undefined : hexField(c, field, 32);
}

function expectOf(c: VectorCase): Uint8Array | null | undefined {
  if (c.expect === undefined) return undefined;
  if (c.expect === null) {
    if (layerOf(c) !== 'chacha') throw new VectorsFormatError(`case "${c.name}": expect must be a hex string`);
    return null;
  }
  return hexField(c, 'expect', TUNNEL_DATA_SIZE);
}

type StripHop = HopKeys;

function stripHops(c: VectorCase): StripHop[] {
  const hops = arrayField(c, 'hops');
  if (hops.length < 1 || hops.length > MAX_HOPS)
    throw new VectorsFormatError(`case "${c.name}": hops must have 1..${MAX_HOPS} entries`);
  const ivName = layerOf(c) === 'chacha' ? 'nonceKey' : 'ivKey';
  return hops.map((h, i) => {
    if (typeof h !== 'object' || h === null || Array.isArray(h))
      throw new VectorsFormatError(`case "${c.name}": hops[${i}] must be an object`);
    const o = h as Record<string, unknown>;
    return {
      layerKey: hexValue(c, `hops[${i}].layerKey`, o.layerKey, 32),
      ivKey: hexValue(c, `hops[${i}].${ivName}`, o[ivName], 32),
    };
  });
}

function verdict(c: VectorCase, out: Uint8Array | null): CaseResult {
  const want = expectOf(c);
  const output = out === null ? null : toHex(out);
  if (want === undefined) return { name: c.name, pass: null, output };
  const pass = want === null ? out === null : out !== null && toHex(want) === output;
  return { name: c.name, pass, output };
}

const hop: KindHandler = {
  validate(c) {
    hexField(c, 'layerKey', 32);
    hexField(c, layerOf(c) === 'chacha' ? 'nonceKey' : 'ivKey', 32);
    uintField(c, 'nextTunnelId');
    hexField(c, 'input', TUNNEL_DATA_SIZE);
    if (layerOf(c) === 'chacha') {
      optionalKey(c, 'inAeadKey');
      optionalKey(c, 'outAeadKey');
    }
    expectOf(c);
  },
  run(c) {
    const body = hexField(c, 'input', TUNNEL_DATA_SIZE);
    const next = uintField(c, 'nextTunnelId');
    if (layerOf(c) === 'chacha') {
      const keys = {
        layerKey: hexField(c, 'layerKey', 32),
        ivKey: hexField(c, 'nonceKey', 32),
        inAeadKey: optionalKey(c, 'inAeadKey'),
        outAeadKey: optionalKey(c, 'outAeadKey'),
      };
      return verdict(c, chachaHop(body, keys, next) ? body : null);
    }
    hopEncrypt(body, { layerKey: hexField(c, 'layerKey', 32), ivKey: hexField(c, 'ivKey', 32) });
    new DataView(body.buffer, body.byteOffset, 4).setUint32(0, next);
    return verdict(c, body);
  },
};

const strip: KindHandler = {
  validate(c) {
    stripHops(c);
    hexField(c, 'input', TUNNEL_DATA_SIZE);
    if (layerOf(c) === 'chacha') {
      optionalKey(c, 'inAeadKey');
      optionalKey(c, 'outAeadKey');
    }
    expectOf(c);
  },
  run(c) {
    const body = hexField(c, 'input', TUNNEL_DATA_SIZE);
    const hops = stripHops(c);
    if (layerOf(c) === 'chacha') {
      const ok = chachaStrip(body, hops, {
        inAeadKey: optionalKey(c, 'inAeadKey'),
        outAeadKey: optionalKey(c, 'outAeadKey'),
      });
      return verdict(c, ok ? body : null);
    }
    creatorStrip(body, hops);
    return verdict(c, body);
  },
};

export const LAYER_KINDS: Record<string, KindHandler> = { hop, strip };

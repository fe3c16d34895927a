// What 'auto' picks for the AES layer, on a CPU with AES instructions and on one without (forced through the
// test seam forceCpuHasAesForTests): OpenSSL's AES (native addon, else node:crypto) is constant time only with
// AES instructions, so without them 'auto' must take the bitsliced WASM AES layer -- and that path must produce
// the reference's bytes for every AES role (tunnel-crypto-aes.md §2-§4).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STATUS_OK } from '../src/constants.js';
import { cpuHasAes, createAes256, forceCpuHasAesForTests } from '../src/crypto/aes.js';
import { nativeAes } from '../src/tunnel/aes-native.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import { bodyOf, hex, makeBatch, withId } from './helpers/batch.js';
import { refParticipant, refStrip } from './reference/layer-reference.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';

// createAes256's 'auto' yields to TUNNELPLANE_BACKEND: unset it here.
const savedBackend = process.env.TUNNELPLANE_BACKEND;
beforeEach(() => {
  delete process.env.TUNNELPLANE_BACKEND;
});
afterEach(() => {
  forceCpuHasAesForTests(undefined);
  if (savedBackend !== undefined) process.env.TUNNELPLANE_BACKEND = savedBackend;
});

describe("'auto' AES backend", () => {
  it('with AES instructions: OpenSSL, through the native addon when it loaded, else hybrid', () => {
    forceCpuHasAesForTests(true);
    expect(new LayerEngine().aesBackend).toBe(nativeAes ? 'native' : 'hybrid');
    expect(new LayerEngine({ backend: 'auto' }).chachaBackend).toBe('wasm');
    expect(createAes256().backend).toBe('node');
  });

  it('without AES instructions: the WASM AES layer (and the WASM AES primitive)', () => {
    forceCpuHasAesForTests(false);
    expect(cpuHasAes()).toBe(false);
    expect(new LayerEngine().aesBackend).toBe('wasm');
    expect(new LayerEngine({ backend: 'auto' }).aesBackend).toBe('wasm');
    expect(new LayerEngine().chachaBackend).toBe('wasm');
    expect(createAes256().backend).toBe('wasm');
    // An explicit backend is still honoured.
    expect(new LayerEngine({ backend: 'hybrid' }).aesBackend).toBe('hybrid');
  });

  it("without AES instructions, 'auto' engines give the reference's bytes: participant, OBGW strip, IBEP strip", () => {
    forceCpuHasAesForTests(false);
    const seed = testSeed('auto without aes instructions');
    const rnd = seededRandom(seed);
    // Participant: several tunnels, batches of mixed sizes (one tunnel alone, spread, mixed).
    const engine = new LayerEngine();
    expect(engine.aesBackend).toBe('wasm');
    const tunnels = Array.from({ length: 5 }, (_, t) => ({
      hop: randomHop(rnd),
      rx: 300 + t,
      next: 700 + t,
      nextHop: 20 + t,
    }));
    for (const t of tunnels)
      engine.join({
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: t.rx,
        nextTunnelId: t.next,
        nextHop: t.nextHop,
        ...t.hop,
      });
    for (const size of [1, 3, 40, 97]) {
      const which = Array.from({ length: size }, (_, i) => (size === 40 ? 2 : (i * 3 + size) % tunnels.length));
      const inputs = which.map((w) => withId(rnd(1028), tunnels[w]!.rx));
      const batch = makeBatch(
        inputs,
        which.map((w) => 60 + w),
      );
      expect(engine.processReceived(batch)).toBe(size);
      for (let i = 0; i < size; i++) {
        expect(batch.status[i]).toBe(STATUS_OK);
        expect(hex(bodyOf(batch, i)), `seed ${seed} size ${size} msg ${i}`).toBe(
          hex(refParticipant(inputs[i]!, tunnels[which[i]!]!.hop, tunnels[which[i]!]!.next)),
        );
      }
    }
    // Creators: an OBGW pre-decrypting for 3 hops, an IBEP stripping 4.
    for (const [role, n] of [
      ['obgw', 3],
      ['ibep', 4],
    ] as const) {
      const hops = Array.from({ length: n }, () => randomHop(rnd));
      const creator = new LayerEngine();
      expect(creator.aesBackend).toBe('wasm');
      if (role === 'obgw')
        creator.join({ role, layer: 'aes', gatewayTunnelId: 5, firstHopTunnelId: 6, firstHop: 7, hops });
      else creator.join({ role, layer: 'aes', receiveTunnelId: 5, hops });
      const inputs = Array.from({ length: 9 }, () => withId(rnd(1028), 5));
      const batch = makeBatch(inputs, 0);
      expect(role === 'obgw' ? creator.processGateway(batch) : creator.processReceived(batch)).toBe(9);
      for (let i = 0; i < 9; i++) {
        expect(batch.status[i]).toBe(STATUS_OK);
        const want = refStrip(inputs[i]!, hops);
        const got = bodyOf(batch, i);
        // The OBGW writes the first hop's tunnel id into bytes 0..3; the IBEP leaves them.
        expect(hex(got.subarray(4)), `seed ${seed} ${role} msg ${i}`).toBe(hex(want.subarray(4)));
      }
    }
  });
});

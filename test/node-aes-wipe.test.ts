// Key wiping of the node:crypto AES backends, checked in process memory (not through a flag): OpenSSL's key
// schedules begin with the key's bytes, and the test build of the native addon (test/helpers/native-test-addon.ts)
// counts them in the process's private writable memory. NodeAes.clearKey (src/crypto/aes.ts) and NodeAesHop.wipe
// (src/tunnel/aes-node.ts) must free their OpenSSL contexts (final() does, and OpenSSL cleanses them) instead of
// leaving them to the garbage collector; the engine's 'node' backend must do so when a tunnel ends.
import { describe, expect, it } from 'vitest';
import { cpuHasAes, createAes256 } from '../src/crypto/aes.js';
import { NodeAesHop } from '../src/tunnel/aes-node.js';
import { nativeAes, nativeAesProblem } from '../src/tunnel/aes-native.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import { nativeTestAddon, trackedKey } from './helpers/native-test-addon.js';

const testBuild = nativeAes
  ? nativeTestAddon()
  : { addon: null, problem: `needs the native addon's test build: ${nativeAesProblem}` };
const why = !testBuild.addon
  ? testBuild.problem
  : !cpuHasAes()
    ? "no AES instructions: OpenSSL's vector-permutation schedules do not hold the key bytes the scan looks for"
    : undefined;
if (why) console.warn(`node:crypto key wipe tests SKIPPED: ${why}`);

describe.skipIf(!nativeAes || !cpuHasAes())(
  `node:crypto AES backends free their key schedules${why ? ` (skipped: ${why})` : ''}`,
  () => {
    const addon = (): NonNullable<typeof testBuild.addon> => {
      expect(testBuild.problem).toBeUndefined();
      return testBuild.addon!;
    };

    it("NodeAes.clearKey: the slot's schedules leave memory at once; a replaced key too", () => {
      const lib = addon();
      const aes = createAes256({ backend: 'node' });
      const a = trackedKey(lib);
      const b = trackedKey(lib);
      aes.setKey(3, a.key);
      a.key.fill(0);
      aes.ecbEncrypt(3, new Uint8Array(32));
      aes.cbcEncrypt(3, new Uint8Array(16), new Uint8Array(64));
      aes.cbcDecrypt(3, new Uint8Array(16), new Uint8Array(64));
      expect(a.count()).toBeGreaterThan(0);
      aes.setKey(3, b.key); // replaces a
      b.key.fill(0);
      expect(a.count()).toBe(0);
      expect(b.count()).toBeGreaterThan(0);
      aes.clearKey(3);
      expect(b.count()).toBe(0);
      expect(aes.hasKey(3)).toBe(false);
    });

    it('NodeAesHop.wipe: every cipher object of the hop (P, P^-1, sideways) ends with it', () => {
      const lib = addon();
      const layer = trackedKey(lib);
      const iv = trackedKey(lib);
      const hop = new NodeAesHop(layer.key, iv.key);
      layer.key.fill(0);
      iv.key.fill(0);
      const buf = new Uint8Array(2 * 1028);
      const at = Int32Array.of(0, 1028);
      const scratch = new Uint8Array(2 * 1008);
      hop.encrypt(buf, at, 2, scratch);
      hop.decrypt(buf, at, 2, scratch);
      hop.encryptInterleaved(buf, new Int32Array(buf.buffer), at, 2, scratch);
      expect(layer.count()).toBeGreaterThan(0);
      expect(iv.count()).toBeGreaterThan(0);
      hop.wipe();
      expect(layer.count()).toBe(0);
      expect(iv.count()).toBe(0);
      // No cipher objects come back from the zeroed keys.
      expect(() => hop.encrypt(buf, at, 2, scratch)).toThrow(/wiped/);
      expect(() => hop.decrypt(buf, at, 2, scratch)).toThrow(/wiped/);
      expect(() => hop.cbcEncryptOne(buf, 20, new Uint8Array(16), 0)).toThrow(/wiped/);
    });

    it("the engine's 'node' backend: a tunnel's schedules leave memory when it ends", () => {
      const lib = addon();
      const engine = new LayerEngine({ backend: 'node' });
      const layer = trackedKey(lib);
      const iv = trackedKey(lib);
      engine.join({
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: 41,
        nextTunnelId: 42,
        nextHop: 1,
        layerKey: layer.key,
        ivKey: iv.key,
      });
      layer.key.fill(0);
      iv.key.fill(0);
      const body = new Uint8Array(1028);
      new DataView(body.buffer).setUint32(0, 41);
      const batch = {
        count: 1,
        bodies: body,
        prevHops: Uint32Array.of(0),
        status: new Uint8Array(1),
        nextHops: new Uint32Array(1),
        nextTunnelIds: new Uint32Array(1),
        roles: new Uint8Array(1),
      };
      engine.processReceived(batch);
      expect(layer.count()).toBeGreaterThan(0);
      engine.end(41);
      expect(layer.count()).toBe(0);
      expect(iv.count()).toBe(0);
    });
  },
);

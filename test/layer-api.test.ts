// The example of docs/tunnel-layers.md, through the package root exports.
import { describe, expect, it } from 'vitest';
import {
  LayerEngine,
  createReplayFilterBuffer,
  LOCAL_HOP,
  STATUS_OK,
  TUNNEL_DATA_SIZE,
  hopEncrypt,
  creatorStrip,
  chachaHop,
} from '../src/index.js';

describe('layer API from the package root', () => {
  it('runs the README example', () => {
    const layerKey = new Uint8Array(32).fill(1),
      ivKey = new Uint8Array(32).fill(2);
    const replayFilter = createReplayFilterBuffer({ messagesPerSecond: 50 });
    const engine = new LayerEngine({ backend: 'auto', replayFilter });
    engine.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 0x1234,
      nextTunnelId: 0x5678,
      nextHop: 17,
      layerKey,
      ivKey,
      expiresAt: Date.now() + 10 * 60_000,
    });
    const count = 4;
    const batch = {
      count,
      bodies: new Uint8Array(count * TUNNEL_DATA_SIZE),
      prevHops: new Uint32Array(count),
      status: new Uint8Array(count),
      nextHops: new Uint32Array(count),
      nextTunnelIds: new Uint32Array(count),
    };
    for (let i = 0; i < count; i++) {
      batch.bodies.set([0, 0, 0x12, 0x34, i], i * TUNNEL_DATA_SIZE);
    }
    const copy = batch.bodies.slice(0, TUNNEL_DATA_SIZE);
    expect(engine.processReceived(batch)).toBe(count);
    hopEncrypt(copy, { layerKey, ivKey });
    copy.set([0, 0, 0x56, 0x78]);
    expect(Buffer.from(batch.bodies.subarray(0, TUNNEL_DATA_SIZE)).equals(copy)).toBe(true);
    expect([...batch.nextHops]).toEqual([17, 17, 17, 17]);
    expect(batch.status.every((s) => s === STATUS_OK)).toBe(true);
    expect(LOCAL_HOP).toBe(0xffffffff);
    expect(typeof creatorStrip).toBe('function');
    expect(typeof chachaHop).toBe('function');
  });
});

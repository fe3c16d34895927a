// The engine inside worker threads: options and tunnel configs are posted (structured clone), the replay filter's
// SharedArrayBuffer is shared, so a message replayed to another thread is still caught. Uses the compiled dist/.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { STATUS_OK, STATUS_REPLAY } from '../src/constants.js';
import { createReplayFilterBuffer } from '../src/tunnel/replay-filter.js';
import type { LayerEngineOptions, TransitTunnelConfig } from '../src/tunnel/types.js';
import { randomHop, seededRandom } from './helpers/seed.js';
import { withId } from './helpers/batch.js';

const SRC = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.mod).then(({ LayerEngine }) => {
  const engine = new LayerEngine(workerData.options);
  engine.join(workerData.config);
  parentPort.on('message', (bodies) => {
    const n = bodies.length / 1028;
    const batch = { count: n, bodies, prevHops: new Uint32Array(n), status: new Uint8Array(n), nextHops: new Uint32Array(n), nextTunnelIds: new Uint32Array(n) };
    engine.processReceived(batch);
    parentPort.postMessage({ status: [...batch.status], bodies: batch.bodies });
  });
  parentPort.postMessage('ready');
});`;

function start(options: LayerEngineOptions, config: TransitTunnelConfig): Promise<Worker> {
  const mod = new URL('../dist/src/tunnel/engine.js', import.meta.url).href;
  const w = new Worker(SRC, { eval: true, workerData: { mod, options, config } });
  return new Promise((resolve, reject) => {
    w.once('message', () => resolve(w));
    w.once('error', reject);
  });
}

function send(w: Worker, bodies: Uint8Array): Promise<{ status: number[]; bodies: Uint8Array }> {
  return new Promise((resolve) => {
    w.once('message', resolve);
    w.postMessage(bodies);
  });
}

describe('LayerEngine in worker threads', () => {
  it('two threads share one replay filter', async () => {
    const rnd = seededRandom(21);
    const replayFilter = createReplayFilterBuffer({ messagesPerSecond: 100 });
    const config: TransitTunnelConfig = {
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 7,
      nextTunnelId: 8,
      nextHop: 1,
      ...randomHop(rnd),
    };
    const [a, b] = await Promise.all([
      start({ backend: 'auto', replayFilter }, config),
      start({ backend: 'wasm', replayFilter }, config),
    ]);
    try {
      const m = withId(rnd(1028), 7);
      const ra = await send(a, Uint8Array.from(m));
      const rb = await send(b, Uint8Array.from(m));
      expect(ra.status).toEqual([STATUS_OK]);
      expect(rb.status).toEqual([STATUS_REPLAY]);
      const fresh = withId(rnd(1028), 7);
      const r1 = await send(a, Uint8Array.from(fresh));
      const other = withId(rnd(1028), 7);
      const r2 = await send(b, Uint8Array.from(other));
      expect(r1.status).toEqual([STATUS_OK]);
      expect(r2.status).toEqual([STATUS_OK]);
    } finally {
      await a.terminate();
      await b.terminate();
    }
  });
});

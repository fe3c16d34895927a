// Engine module for data-plane workers in tests (src/testing withEngineModule; plain JS: workers load it without
// vitest's transform). The real LayerEngine from dist/, which on close() reports over a BroadcastChannel what is
// left of the keys it was given: how many were in its WASM memory before and after, whether its key material is
// all zero, and whether the config copies this thread received were zeroed after each join.
import { threadId } from 'node:worker_threads';
import { LayerEngine } from '../../dist/src/tunnel/engine.js';
import { engineKeyMaterial, engineWasmMemory, findBytes } from '../../dist/src/testing/index.js';

export const CHANNEL = 'tunnelplane-close-probe';

function keysOf(config) {
  const hops = Array.isArray(config.hops) ? config.hops : [];
  return [
    config.layerKey,
    config.ivKey,
    config.inAeadKey,
    config.outAeadKey,
    ...hops.flatMap((h) => [h.layerKey, h.ivKey]),
  ].filter((k) => k instanceof Uint8Array);
}

export function createEngine(options) {
  const engine = new LayerEngine(options);
  const copies = [];
  const received = [];
  const tunnels = [];
  const join = engine.join.bind(engine);
  engine.join = (config) => {
    const keys = keysOf(config);
    copies.push(...keys.map((k) => Uint8Array.from(k)));
    received.push(...keys); // this thread's structured-clone copies: the runner must zero them after the join
    const gateway = config.role === 'obgw' || config.role === 'ibgw';
    tunnels.push([config.role === 'obgw' ? config.gatewayTunnelId : config.receiveTunnelId, gateway]);
    join(config);
  };
  const close = engine.close.bind(engine);
  engine.close = () => {
    const mem = engineWasmMemory(engine);
    const count = () => (mem ? copies.filter((k) => findBytes(mem, k).length > 0).length : -1);
    const before = count();
    close();
    const report = {
      thread: threadId,
      keys: copies.length,
      before,
      after: count(),
      material: tunnels.some(([id, g]) => engineKeyMaterial(engine, id, g).some((k) => k.some((b) => b !== 0))),
      configsZero: received.every((k) => k.every((b) => b === 0)),
    };
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage(report);
    channel.close();
  };
  return engine;
}

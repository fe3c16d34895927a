// The data plane's safety properties: every copy of a key wiped on end, close and reset (worker engines, the inline
// runner, configs received in workers, the validator's probe); joins a worker refuses reach the caller; a hung
// worker is found and recovered once; test hooks are not on the public API.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDataPlane, type DataPlane } from '../src/dataplane/index.js';
import { BatchRunner } from '../src/dataplane/batch-runner.js';
import { slotLayout } from '../src/dataplane/slots.js';
import { AES_KEY_SLOTS, CHACHA_KEY_SLOTS, STATUS_OK, TUNNEL_DATA_SIZE } from '../src/constants.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import type { LayerEngineOptions, TunnelConfig } from '../src/tunnel/types.js';
import { TunnelJoinError } from '../src/errors.js';
import * as pkg from '../src/index.js';
import {
  crashNextBatch,
  engineKeyMaterial,
  engineWasmMemory,
  findBytes,
  hangNextBatch,
  withEngineModule,
} from '../src/testing/index.js';
import { createRng } from '../src/bench/random.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  byTunnel,
  collect,
  makeWorkload,
  reference,
  type Outcome,
  type Workload,
} from './helpers/dataplane-workload.js';

const PROBE = new URL('./helpers/close-probe-engine.mjs', import.meta.url).href;
const CHANNEL = 'tunnelplane-close-probe';

interface CloseReport {
  thread: number;
  keys: number;
  before: number;
  after: number;
  material: boolean;
  configsZero: boolean;
}

const allKeys = (c: TunnelConfig): Uint8Array[] => {
  const x = c as unknown as Record<string, unknown> & { hops?: Record<string, unknown>[] };
  return [
    x.layerKey,
    x.ivKey,
    x.inAeadKey,
    x.outAeadKey,
    ...(x.hops ?? []).flatMap((h) => [h.layerKey, h.ivKey]),
  ].filter((k): k is Uint8Array => k instanceof Uint8Array);
};
const nonZero = (ks: Uint8Array[]): boolean => ks.some((k) => k.some((b) => b !== 0));

async function pushAll(plane: DataPlane, w: Workload, at?: number, inject?: () => void): Promise<void> {
  for (let i = 0; i < w.count; i++) {
    if (i === at) inject!();
    while (!plane.push(w.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE), w.prevHops[i]!))
      await plane.ready();
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await plane.idle();
}

function expectSame(got: Outcome[], want: Outcome[], w: Workload): void {
  expect(got.length).toBe(want.length);
  const g = byTunnel(got, w.tunnels);
  for (const [t, list] of byTunnel(want, w.tunnels)) expect({ t, out: g.get(t) }).toEqual({ t, out: list });
}

/** Collects the probe engines' close reports until `n` have come (or 5 s passed). */
function listen(): { reports: CloseReport[]; wait(n: number): Promise<CloseReport[]>; stop(): void } {
  const reports: CloseReport[] = [];
  const ch = new BroadcastChannel(CHANNEL);
  ch.onmessage = (e: MessageEvent) => {
    reports.push(e.data as CloseReport);
  };
  return {
    reports,
    async wait(n) {
      for (let t = 0; t < 100 && reports.length < n; t++) await new Promise((r) => setTimeout(r, 50));
      return reports;
    },
    stop: () => ch.close(),
  };
}

describe('data plane: keys wiped on close, crash and reset', () => {
  it('close() has each worker close its engine: no key left in its WASM memory, received configs zeroed', async () => {
    const w = makeWorkload('dataplane-safety/close', 1200);
    const probe = listen();
    const plane = createDataPlane(
      withEngineModule({ threads: 2, backend: 'wasm', maxBatch: 64, onOutput: () => {} }, PROBE),
    );
    try {
      for (const t of w.tunnels) plane.join(t);
      await pushAll(plane, w);
    } finally {
      await plane.close();
    }
    // Each worker also closes the empty engine it started with when its first task resets it: those hold no key.
    const reports = (await probe.wait(4)).filter((r) => r.keys > 0);
    probe.stop();
    expect(reports.length).toBe(2);
    const keys = w.tunnels.reduce((n, t) => n + allKeys(t).length, 0);
    expect(reports.reduce((n, r) => n + r.keys, 0)).toBe(keys); // every tunnel joined on exactly one worker
    for (const r of reports) {
      expect(r.before).toBe(r.keys); // positive control: the wasm backend holds every key in its slots
      expect(r.after).toBe(0);
      expect(r.material).toBe(false);
      expect(r.configsZero).toBe(true);
    }
  });

  it('a worker that dies wipes its engine on the way out; the replacement is wiped at close; output exact', async () => {
    const w = makeWorkload('dataplane-safety/crash', 1500);
    const want = reference(w);
    const got: Outcome[] = [];
    const probe = listen();
    const plane = createDataPlane(
      withEngineModule({ threads: 2, backend: 'wasm', maxBatch: 64, onOutput: collect(got) }, PROBE),
    );
    try {
      for (const t of w.tunnels) plane.join(t);
      await pushAll(plane, w, 400, () => crashNextBatch(plane, 1));
      expectSame(got, want, w);
      expect(plane.stats().workers[1]!.restarts).toBe(1);
    } finally {
      await plane.close();
    }
    const reports = (await probe.wait(6)).filter((r) => r.keys > 0);
    probe.stop();
    expect(reports.length).toBe(3); // the dead thread, its replacement and shard 0
    for (const r of reports) {
      expect(r.before).toBe(r.keys);
      expect(r.after).toBe(0);
      expect(r.material).toBe(false);
      expect(r.configsZero).toBe(true);
    }
  });

  it('inline: close() closes the runner engine and the validator (their WASM memories hold no key)', async () => {
    const w = makeWorkload('dataplane-safety/inline', 600);
    const plane = createDataPlane({ threads: 'inline', backend: 'wasm', onOutput: () => {} });
    const keys = w.tunnels.flatMap((t) => allKeys(t).map((k) => Uint8Array.from(k)));
    const internals = plane as unknown as { shards: { runner: { engine: LayerEngine } }[]; validator: LayerEngine };
    for (const t of w.tunnels) plane.join(t);
    await pushAll(plane, w);
    const engine = internals.shards[0]!.runner.engine;
    const mem = engineWasmMemory(engine)!;
    // The validator only checks configs (validate(): no key slot taken), so its WASM memory holds no key at any time.
    const inValidator = () => {
      const vmem = engineWasmMemory(internals.validator);
      return vmem === null ? [] : keys.filter((k) => findBytes(vmem, k).length > 0);
    };
    expect(keys.filter((k) => findBytes(mem, k).length > 0).length).toBe(keys.length);
    expect(inValidator()).toEqual([]);
    await plane.close();
    expect(keys.filter((k) => findBytes(mem, k).length > 0)).toEqual([]);
    expect(inValidator()).toEqual([]);
    expect(() =>
      engine.processReceived({
        count: 0,
        bodies: new Uint8Array(0),
        prevHops: new Uint32Array(0),
        status: new Uint8Array(0),
        nextHops: new Uint32Array(0),
        nextTunnelIds: new Uint32Array(0),
      }),
    ).toThrow(/closed/);
  });

  it('join() leaves no copy of a key it made: one clone per join, zeroed when refused or ended', async () => {
    const w = makeWorkload('dataplane-safety/clones', 1, 8);
    const clones: unknown[] = [];
    const real = globalThis.structuredClone;
    const spy = vi.spyOn(globalThis, 'structuredClone').mockImplementation(((
      v: unknown,
      o?: Parameters<typeof structuredClone>[1],
    ) => {
      const c = real(v, o);
      clones.push(c);
      return c;
    }) as typeof structuredClone);
    const plane = createDataPlane({ threads: 'inline', onOutput: () => {} });
    try {
      for (const t of w.tunnels) plane.join(t);
      expect(() => plane.join(w.tunnels[0]!)).toThrow(/in use/); // refused: its clone must not keep the keys
      expect(() =>
        plane.join({ ...w.tunnels[1]!, receiveTunnelId: 0x7777, ivKey: new Uint8Array(3) } as never),
      ).toThrow(RangeError);
      await plane.idle();
      // Live tunnels keep one copy each (for a replacement worker): the others are zero already. The validator checks
      // the plane's own copy (validate() keeps nothing), so there is no probe clone.
      const configs = clones.filter((c) => typeof c === 'object' && c !== null && 'role' in c) as TunnelConfig[];
      expect(configs.length).toBeGreaterThanOrEqual(w.tunnels.length + 2);
      expect(configs.filter((c) => nonZero(allKeys(c))).length).toBe(w.tunnels.length);
      for (const t of w.tunnels) plane.end((t as { receiveTunnelId: number }).receiveTunnelId);
      await plane.idle();
      expect(configs.filter((c) => nonZero(allKeys(c)))).toEqual([]);
    } finally {
      spy.mockRestore();
      await plane.close();
    }
  });

  it("the main thread's validator keeps nothing per tunnel (no tombstone, no key state)", async () => {
    const w = makeWorkload('dataplane-safety/validator', 1, 40);
    const plane = createDataPlane({ threads: 1, onOutput: () => {} });
    const internals = plane as unknown as {
      validator: { received: Map<number, unknown>; gateways: Map<number, unknown> };
    };
    try {
      for (const t of w.tunnels) plane.join(t);
      await plane.idle();
      expect(internals.validator.received.size + internals.validator.gateways.size).toBe(0);
    } finally {
      await plane.close();
    }
  });

  it('BatchRunner: a reset closes the engine it replaces; configs it owns are zeroed after the join', () => {
    const rng = createRng('dataplane-safety/reset');
    const engines: LayerEngine[] = [];
    const factory = (o: LayerEngineOptions): LayerEngine => {
      const e = new LayerEngine(o);
      engines.push(e);
      return e;
    };
    const layout = slotLayout(4, 2);
    const runner = new BatchRunner(
      factory,
      { backend: 'wasm' },
      new SharedArrayBuffer(layout.slotSize * 2),
      4,
      2,
      true,
    );
    const cfg = (id: number): TunnelConfig => ({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: id,
      nextTunnelId: id + 1,
      nextHop: 9,
      layerKey: rng.bytes(32),
      ivKey: rng.bytes(32),
    });
    const a = cfg(1);
    const aKeys = allKeys(a).map((k) => Uint8Array.from(k));
    const control = { slot: -1, count: 0, gateway: false, batchId: 1 };
    expect(runner.run({ seq: 0, reset: [a], batches: [control] }).results).toHaveLength(1);
    expect(nonZero(allKeys(a))).toBe(false); // the runner's own copy, zeroed once the engine took the keys
    const first = engines[engines.length - 1]!;
    const mem = engineWasmMemory(first)!;
    expect(aKeys.filter((k) => findBytes(mem, k).length > 0).length).toBe(2);
    expect(runner.run({ seq: 7, reset: [cfg(2)], batches: [control] }).results).toHaveLength(1);
    expect(engines[engines.length - 1]).not.toBe(first);
    expect(aKeys.filter((k) => findBytes(mem, k).length > 0)).toEqual([]);
    expect(nonZero(engineKeyMaterial(first, 1))).toBe(false);
    runner.close();
    expect(runner.run({ seq: 8, batches: [control] }).refused).toBe('closed');
  });
});

describe('data plane: a join a worker refuses reaches the caller', () => {
  // ChaCha participants take four WASM ChaCha slots each (two layer keys, two AEAD keys): 2048 fill an engine.
  const perTunnel = 4;
  const capacity = CHACHA_KEY_SLOTS / perTunnel;
  const chacha = (rng: ReturnType<typeof createRng>, id: number): TunnelConfig => ({
    role: 'participant',
    layer: 'chacha',
    receiveTunnelId: id,
    nextTunnelId: id,
    nextHop: 5,
    layerKey: rng.bytes(32),
    ivKey: rng.bytes(32),
    inAeadKey: rng.bytes(32),
    outAeadKey: rng.bytes(32),
    previousHop: 4,
  });

  for (const threads of ['inline', 1] as const) {
    it(`as an 'error' event (TunnelJoinError) and a counter; stats() shows the key slots left (threads: ${threads})`, async () => {
      const rng = createRng(`dataplane-safety/slots/${threads}`);
      const statuses: number[] = [];
      const plane = createDataPlane({ threads, backend: 'wasm', onOutput: (b) => statuses.push(...b.status) });
      const errors: unknown[] = [];
      plane.on('error', (e) => errors.push(e));
      try {
        expect(plane.stats().workers[0]!.keySlotsFree).toEqual({ aes: AES_KEY_SLOTS, chacha: CHACHA_KEY_SLOTS });
        for (let t = 0; t < capacity; t++) plane.join(chacha(rng, 1000 + t));
        await plane.idle();
        expect(plane.stats().workers[0]!.keySlotsFree).toEqual({ aes: AES_KEY_SLOTS, chacha: 0 });
        expect(errors).toEqual([]);
        const extra = 1000 + capacity;
        plane.join(chacha(rng, extra)); // the main thread's checks pass; the worker's engine has no slot left
        await plane.idle();
        await new Promise((r) => setImmediate(r));
        expect(errors.length).toBe(1);
        const e = errors[0] as TunnelJoinError;
        expect(e).toBeInstanceOf(TunnelJoinError);
        expect([e.tunnelId, e.gateway, e.shard]).toEqual([extra, false, 0]);
        expect(e.message).toMatch(/key slots/);
        const s = plane.stats();
        expect(s.joinErrors).toBe(1);
        expect(s.workers[0]!.tunnels).toBe(capacity); // not counted as live
        // Its traffic is dropped as unknown; the id is free again: after an end frees slots, a rejoin works.
        const body = rng.bytes(TUNNEL_DATA_SIZE);
        new DataView(body.buffer, body.byteOffset).setUint32(0, extra);
        plane.push(body, 4);
        await plane.idle();
        expect(statuses.at(-1)).not.toBe(STATUS_OK);
        expect(plane.stats().dropped.unknownTunnel).toBe(1);
        plane.end(1000);
        plane.join(chacha(rng, extra));
        await plane.idle();
        await new Promise((r) => setImmediate(r));
        expect(errors.length).toBe(1);
        expect(plane.stats().workers[0]!.keySlotsFree.chacha).toBe(0);
        expect(plane.stats().workers[0]!.tunnels).toBe(capacity);
      } finally {
        await plane.close();
      }
    });
  }
});

describe('data plane: a join refused while a replacement worker is brought up', () => {
  it("is reported like any refused join; the rest of the shard's state is restored and its output exact", async () => {
    const w = makeWorkload('dataplane-safety/reset-refused', 1500);
    const victim = w.tunnels[3] as { receiveTunnelId: number }; // an AES participant
    const dir = mkdtempSync(join(tmpdir(), 'tunnelplane-refuse-'));
    const url = `${new URL('./helpers/refuse-rejoin-engine.mjs', import.meta.url).href}?ids=${victim.receiveTunnelId}&marker=${encodeURIComponent(join(dir, 'joined'))}`;
    const got: Outcome[] = [];
    const plane = createDataPlane(withEngineModule({ threads: 1, maxBatch: 64, onOutput: collect(got) }, url));
    const errors: unknown[] = [];
    plane.on('error', (e) => errors.push(e));
    try {
      for (const t of w.tunnels) plane.join(t);
      // The crash comes after the joins were delivered: the replacement gets them in its reset, and refuses one.
      await pushAll(plane, w, 700, () => crashNextBatch(plane, 0));
      await new Promise((r) => setImmediate(r));
      expect(errors.length).toBe(1);
      const e = errors[0] as TunnelJoinError;
      expect(e).toBeInstanceOf(TunnelJoinError);
      expect([e.tunnelId, e.gateway, e.shard]).toEqual([victim.receiveTunnelId, false, 0]);
      const s = plane.stats();
      expect(s.joinErrors).toBe(1);
      expect(s.workers[0]!.restarts).toBe(1);
      expect(s.workers[0]!.tunnels).toBe(w.tunnels.length - 1);
      // Every other tunnel's output is exactly the reference's; the victim's messages up to the crash are too.
      const want = reference(w);
      const mine = byTunnel(got, w.tunnels);
      for (const [t, list] of byTunnel(want, w.tunnels)) {
        if (t === victim.receiveTunnelId) continue;
        expect({ t, out: mine.get(t) }).toEqual({ t, out: list });
      }
      // The id is free again (a second refusal of this test engine proves the join reached the worker).
      plane.join(w.tunnels[3]!);
      await plane.idle();
      await new Promise((r) => setImmediate(r));
      expect(errors.length).toBe(2);
    } finally {
      await plane.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data plane: a hung worker', () => {
  const w = makeWorkload('dataplane-safety/hang', 2000);
  const want = reference(w);
  let plane: DataPlane | undefined;
  afterEach(async () => {
    await plane?.close();
    plane = undefined;
  });

  it('is found by the task timeout, terminated and recovered once like a crash: nothing lost, nothing twice', async () => {
    const got: Outcome[] = [];
    plane = createDataPlane({ threads: 2, maxBatch: 64, taskTimeoutMs: 300, onOutput: collect(got) });
    const events: unknown[][] = [];
    plane.on('workerCrash', (...a: unknown[]) => events.push(a));
    for (const t of w.tunnels) plane.join(t);
    const t0 = performance.now();
    await pushAll(plane, w, 500, () => hangNextBatch(plane!, 1));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expectSame(got, want, w);
    const s = plane.stats();
    expect(events).toEqual([[1, 'timeout']]);
    expect(s.workers.map((x) => [x.restarts, x.timeouts])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(s.dropped.workerCrash).toBe(0);
  }, 30_000); // bounded: without a watchdog this would wait forever

  it('a batch that hangs every attempt is dropped after maxAttempts, counted; the rest is exact', async () => {
    let out = 0;
    plane = createDataPlane({
      threads: 2,
      maxBatch: 64,
      maxAttempts: 2,
      taskTimeoutMs: 250,
      onOutput: (b) => {
        out += b.count;
      },
    });
    for (const t of w.tunnels) plane.join(t);
    await pushAll(plane, w, 300, () => hangNextBatch(plane!, 0, 5));
    const s = plane.stats();
    expect(s.workers[0]!.timeouts).toBe(2);
    expect(s.workers[0]!.restarts).toBe(2);
    expect(s.dropped.workerCrash).toBeGreaterThan(0);
    expect(out + s.dropped.workerCrash).toBe(w.count);
  }, 30_000);

  it('a main thread blocked longer than the timeout is not taken for a hung worker', async () => {
    const got: Outcome[] = [];
    plane = createDataPlane({ threads: 2, maxBatch: 64, taskTimeoutMs: 200, onOutput: collect(got) });
    for (const t of w.tunnels) plane.join(t);
    for (let i = 0; i < 600; i++)
      plane.push(w.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE), w.prevHops[i]!);
    plane.flush();
    const until = performance.now() + 500;
    while (performance.now() < until) {
      /* block: the workers' results wait in the queue */
    }
    await plane.idle();
    expect(plane.stats().workers.map((x) => x.timeouts)).toEqual([0, 0]);
    expect(got.length).toBe(600);
  });

  it('rejects a bad taskTimeoutMs', () => {
    expect(() => createDataPlane({ threads: 1, taskTimeoutMs: -1, onOutput: () => {} })).toThrow(RangeError);
  });
});

describe('test hooks are not on the public API', () => {
  it('DataPlane, LayerEngine and the package root expose none of them', async () => {
    for (const name of ['crashNextBatch', 'hangNextBatch', 'debugKeyMaterial', 'engineModule']) {
      expect(name in pkg.DataPlane.prototype).toBe(false);
      expect(name in pkg.LayerEngine.prototype).toBe(false);
      expect(name in pkg).toBe(false);
    }
    for (const name of ['TEST_SEAM', 'engineKeyMaterial', 'engineWasmMemory', 'withEngineModule'])
      expect(name in pkg).toBe(false);
    // A string option of the old name is not read: the workers run the real engine.
    const got: Outcome[] = [];
    const plane = createDataPlane({
      threads: 1,
      onOutput: collect(got),
      engineModule: 'file:///nonexistent/engine.mjs',
    } as never);
    try {
      const x = makeWorkload('dataplane-safety/api', 50, 2);
      for (const t of x.tunnels) plane.join(t);
      await pushAll(plane, x);
      expect(got.length).toBe(50);
      expect(plane.stats().workers[0]!.restarts).toBe(0);
    } finally {
      await plane.close();
    }
  });
});

// The worker-pool data plane against the single-thread engine: same bytes and statuses per tunnel, in order, for
// every thread count; crash recovery; join/end ordering; close() draining. Pools use the compiled worker in dist/
// (`npm test` builds first).
import { describe, expect, it } from 'vitest';
import { createDataPlane, type DataPlane } from '../src/dataplane/index.js';
import {
  STATUS_EXPIRED_TUNNEL,
  STATUS_OK,
  STATUS_UNKNOWN_TUNNEL,
  STATUS_WRONG_PREV_HOP,
  TUNNEL_DATA_SIZE,
} from '../src/constants.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import { nativeAes } from '../src/tunnel/aes-native.js';
import { availableParallelism } from 'node:os';
import {
  byTunnel,
  collect,
  makeWorkload,
  reference,
  type Outcome,
  type Workload,
} from './helpers/dataplane-workload.js';
import { crashNextBatch } from '../src/testing/index.js';

async function runPlane(
  plane: DataPlane,
  w: Workload,
  opts: { crashAt?: number; crashShard?: number } = {},
): Promise<void> {
  for (const t of w.tunnels) plane.join(t);
  for (let i = 0; i < w.count; i++) {
    if (i === opts.crashAt) crashNextBatch(plane, opts.crashShard ?? 0);
    const body = w.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE);
    while (!plane.push(body, w.prevHops[i]!)) await plane.ready();
    if (i % 500 === 499) await new Promise((r) => setImmediate(r)); // let batches of many sizes form
  }
  await plane.idle();
}

function expectSame(got: Outcome[], want: Outcome[], w: Workload): void {
  expect(got.length).toBe(want.length);
  const g = byTunnel(got, w.tunnels);
  const r = byTunnel(want, w.tunnels);
  expect([...g.keys()].sort()).toEqual([...r.keys()].sort());
  for (const [t, list] of r) {
    const mine = g.get(t)!;
    // Compact first: a mismatch message names the tunnel and the first differing position.
    for (let i = 0; i < list.length; i++) {
      if (
        mine[i]!.status !== list[i]!.status ||
        mine[i]!.body !== list[i]!.body ||
        mine[i]!.nextHop !== list[i]!.nextHop ||
        mine[i]!.nextTunnelId !== list[i]!.nextTunnelId
      ) {
        expect({ tunnel: t, at: i, got: mine[i] }).toEqual({ tunnel: t, at: i, got: list[i] });
      }
    }
  }
}

describe('data plane: same output as the single-thread engine', () => {
  const w = makeWorkload('dataplane/equivalence', 4000);
  const want = reference(w);
  const statuses = new Set(want.map((o) => o.status));

  it('the workload exercises ok, replay, unknown, wrong-hop and bad-MAC paths', () => {
    expect(statuses.size).toBeGreaterThanOrEqual(5);
  });

  // prefill (the main thread also fills each batch's output half) is on by default below the core count.
  const configs = [
    ['inline', undefined],
    [1, undefined],
    [1, false],
    [2, undefined],
    [2, true],
    [4, undefined],
  ] as const;
  for (const [threads, prefill] of configs) {
    it(`threads: ${threads}${prefill === undefined ? '' : `, prefill: ${prefill}`}`, async () => {
      const got: Outcome[] = [];
      const plane = createDataPlane({
        threads,
        maxBatch: 128,
        onOutput: collect(got),
        ...(prefill === undefined ? {} : { prefill }),
      });
      try {
        await runPlane(plane, w);
        const s = plane.stats();
        if (process.env.DP_DEBUG) console.log(JSON.stringify(s));
        expectSame(got, want, w);
        expect(s.messagesIn).toBe(w.count);
        expect(s.messagesOut).toBe(want.filter((o) => o.status === STATUS_OK).length);
        const drops = Object.values(s.dropped).reduce((a, b) => a + b, 0) - s.dropped.queueFull;
        expect(s.messagesOut + drops).toBe(w.count);
        expect(s.queueDepth).toBe(0);
        expect(s.workers.length).toBe(threads === 'inline' ? 1 : threads);
        expect(s.workers.reduce((a, x) => a + x.messages, 0)).toBe(w.count);
        expect(s.workers.map((x) => x.restarts)).toEqual(s.workers.map(() => 0)); // no out-of-sequence recovery
      } finally {
        await plane.close();
      }
    });
  }
});

describe('data plane: a worker killed mid-batch', () => {
  const w = makeWorkload('dataplane/crash', 3000);
  const want = reference(w);

  for (const [crashAt, prefill] of [
    [100, false],
    [1500, true],
  ] as const) {
    it(`loses and duplicates nothing (crash after message ${crashAt}, prefill: ${prefill})`, async () => {
      const got: Outcome[] = [];
      const plane = createDataPlane({ threads: 2, prefill, maxBatch: 64, onOutput: collect(got) });
      const crashes: number[] = [];
      plane.on('workerCrash', (s: number) => crashes.push(s));
      try {
        await runPlane(plane, w, { crashAt, crashShard: 1 });
        expect(crashes).toEqual([1]);
        expectSame(got, want, w); // no message lost, none twice, no self-replay, pins kept across the restart
        const s = plane.stats();
        expect(s.workers[1]!.restarts).toBe(1);
        expect(s.dropped.workerCrash).toBe(0);
        expect(s.messagesOut).toBe(want.filter((o) => o.status === STATUS_OK).length);
      } finally {
        await plane.close();
      }
    });
  }
});

describe('data plane: pushBatch takes references', () => {
  // pushBatch copies a message when its batch is sealed, and copies what is still unsealed when it resolves: the
  // caller may then overwrite its buffer. Chunks of 300 through one reused buffer leave partial batches (maxBatch 128)
  // open across pushes.
  const w = makeWorkload('dataplane/reuse', 2400);
  const want = reference(w);
  for (const threads of ['inline', 2] as const) {
    it(`the caller's buffer may be overwritten once the push resolves (threads: ${threads})`, async () => {
      const got: Outcome[] = [];
      const plane = createDataPlane({ threads, maxBatch: 128, onOutput: collect(got) });
      try {
        for (const t of w.tunnels) plane.join(t);
        const chunk = 300;
        const buf = new Uint8Array(chunk * TUNNEL_DATA_SIZE);
        for (let at = 0; at < w.count; at += chunk) {
          const n = Math.min(chunk, w.count - at);
          buf.set(w.bodies.subarray(at * TUNNEL_DATA_SIZE, (at + n) * TUNNEL_DATA_SIZE));
          await plane.pushBatch(buf, w.prevHops.subarray(at, at + n), n);
          buf.fill(0xa5); // garbage: a message still referenced here would come out wrong
        }
        await plane.idle();
        expectSame(got, want, w);
      } finally {
        await plane.close();
      }
    });
  }
});

describe('data plane: a worker that falls behind', () => {
  const w = makeWorkload('dataplane/coalesce', 3000);
  const want = reference(w);

  for (const crash of [false, true]) {
    it(`gets the batches that piled up in one task, in order${crash ? ', and a crash in such a task loses nothing' : ''}`, async () => {
      const got: Outcome[] = [];
      // One task in flight per worker, up to 8 batches in it: while a worker runs one, the next ones pile up.
      const plane = createDataPlane({
        threads: 2,
        maxBatch: 32,
        pipeline: 1,
        batchesPerTask: 8,
        onOutput: collect(got),
      });
      try {
        for (const t of w.tunnels) plane.join(t);
        if (crash) {
          await plane.pushBatch(w.bodies.subarray(0, 1000 * TUNNEL_DATA_SIZE), w.prevHops.subarray(0, 1000), 1000);
          crashNextBatch(plane, 1);
          await plane.pushBatch(w.bodies.subarray(1000 * TUNNEL_DATA_SIZE), w.prevHops.subarray(1000), w.count - 1000);
        } else {
          await plane.pushBatch(w.bodies, w.prevHops, w.count);
        }
        await plane.idle();
        expectSame(got, want, w);
        const s = plane.stats();
        for (const x of s.workers) expect(x.tasks).toBeLessThan(x.batches);
        expect(s.workers[1]!.restarts).toBe(crash ? 1 : 0);
        expect(s.dropped.workerCrash).toBe(0);
      } finally {
        await plane.close();
      }
    });
  }

  it('rejects a bad batchesPerTask', () => {
    expect(() => createDataPlane({ threads: 1, batchesPerTask: 0, onOutput: () => {} })).toThrow(RangeError);
  });
});

describe('data plane: a batch that kills its worker every time', () => {
  it('is dropped after maxAttempts, counted as workerCrash; the rest is exact', async () => {
    const w = makeWorkload('dataplane/poison', 1000);
    let out = 0;
    const plane = createDataPlane({
      threads: 2,
      maxBatch: 64,
      maxAttempts: 2,
      onOutput: (b) => {
        out += b.count;
      },
    });
    try {
      for (const t of w.tunnels) plane.join(t);
      for (let i = 0; i < w.count; i++) {
        if (i === 300) crashNextBatch(plane, 0, 5);
        while (!plane.push(w.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE), w.prevHops[i]!))
          await plane.ready();
      }
      await plane.idle();
      const s = plane.stats();
      expect(s.workers[0]!.restarts).toBe(2);
      expect(s.dropped.workerCrash).toBeGreaterThan(1);
      expect(out + s.dropped.workerCrash).toBe(w.count);
      const drops = Object.values(s.dropped).reduce((a, b) => a + b, 0) - s.dropped.queueFull;
      expect(s.messagesOut + drops).toBe(w.count);
    } finally {
      await plane.close();
    }
  });
});

describe('data plane: a worker that dies while idle', () => {
  it('its replacement is given the tunnel state before it processes anything', async () => {
    const w = makeWorkload('dataplane/idle-crash', 1200);
    const want = reference(w);
    const got: Outcome[] = [];
    const plane = createDataPlane({ threads: 2, maxBatch: 64, onOutput: collect(got) });
    try {
      for (const t of w.tunnels) plane.join(t);
      const half = 600;
      for (let i = 0; i < half; i++)
        while (!plane.push(w.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE), w.prevHops[i]!))
          await plane.ready();
      await plane.idle();
      // Kill both workers behind the data plane's back: piscina starts replacements nobody has told about.
      const pools = (
        plane as unknown as { shards: { pool: { threads: { terminate(): Promise<number> }[] } }[] }
      ).shards.map((s) => s.pool);
      await Promise.all(pools.flatMap((p) => p.threads.map((t) => t.terminate())));
      await new Promise((r) => setTimeout(r, 50));
      for (let i = half; i < w.count; i++)
        while (!plane.push(w.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE), w.prevHops[i]!))
          await plane.ready();
      await plane.idle();
      expectSame(got, want, w);
      const s = plane.stats();
      expect(s.workers.reduce((a, x) => a + x.restarts, 0)).toBeGreaterThanOrEqual(1);
    } finally {
      await plane.close();
    }
  });
});

describe('data plane: gateway bodies', () => {
  it('pushGateway runs processGateway (OBGW pre-decryption) with the same bytes as the engine', async () => {
    const w = makeWorkload('dataplane/gateway', 300, 4);
    const hops = [0, 1, 2].map((h) => ({
      layerKey: w.bodies.slice(h * 64, h * 64 + 32),
      ivKey: w.bodies.slice(h * 64 + 32, h * 64 + 64),
    }));
    const obgw = {
      role: 'obgw' as const,
      layer: 'aes' as const,
      gatewayTunnelId: 77,
      firstHopTunnelId: 4242,
      firstHop: 12,
      hops,
      expiresAt: Date.now() + 600_000,
    };
    const bodies = w.bodies.slice();
    for (let i = 0; i < w.count; i++) new DataView(bodies.buffer).setUint32(i * TUNNEL_DATA_SIZE, 77);
    const engine = new LayerEngine({});
    engine.join(structuredClone(obgw));
    const ref = bodies.slice();
    const st = new Uint8Array(w.count);
    engine.processGateway({
      count: w.count,
      bodies: ref,
      status: st,
      nextHops: new Uint32Array(w.count),
      nextTunnelIds: new Uint32Array(w.count),
    });
    const out = new Uint8Array(bodies.length);
    let n = 0;
    const plane = createDataPlane({
      threads: 2,
      onOutput: (b) => {
        expect(b.gateway).toBe(true);
        for (let i = 0; i < b.count; i++)
          expect([b.status[i], b.nextHops[i], b.nextTunnelIds[i]]).toEqual([STATUS_OK, 12, 4242]);
        out.set(b.bodies, n * TUNNEL_DATA_SIZE);
        n += b.count;
      },
    });
    try {
      plane.join(obgw);
      await plane.pushBatch(bodies);
      await plane.idle();
      expect(n).toBe(w.count);
      expect(Buffer.from(out).equals(Buffer.from(ref))).toBe(true); // one tunnel: order kept end to end
    } finally {
      await plane.close();
    }
  });
});

describe('data plane: tunnel placement', () => {
  it('spreads joined tunnels evenly over the shards and keeps an id on its shard across end and rejoin', async () => {
    const plane = createDataPlane({ threads: 2, onOutput: () => {} });
    try {
      // The benchmark's ids: hashing alone puts 29 of them on one shard and 35 on the other.
      const w = makeWorkload('dataplane/placement', 1, 64);
      const ids: number[] = [];
      for (let t = 0; t < 64; t++) {
        const id = 0x10000 + t * 104729;
        ids.push(id);
        plane.join({
          ...(w.tunnels[0] as object),
          role: 'participant',
          layer: 'aes',
          receiveTunnelId: id,
          nextTunnelId: id,
          nextHop: 7,
        } as never);
      }
      const count = (s: number): number => ids.filter((id) => plane.shardOfTunnel(id) === s).length;
      expect([count(0), count(1)]).toEqual([32, 32]);
      const first = ids.filter((id) => plane.shardOfTunnel(id) === 0).slice(0, 4);
      for (const id of first) plane.end(id);
      // Shard 0 now has 28 live tunnels: the next four new ids go there.
      const fresh = [7, 8, 9, 10].map((k) => 0x7000000 + k);
      for (const id of fresh) {
        plane.join({
          ...(w.tunnels[0] as object),
          role: 'participant',
          layer: 'aes',
          receiveTunnelId: id,
          nextTunnelId: id,
          nextHop: 7,
        } as never);
      }
      expect(fresh.map((id) => plane.shardOfTunnel(id))).toEqual([0, 0, 0, 0]);
      // An ended id keeps its shard (late messages are reported as expired there) and a rejoin goes back to it.
      expect(first.map((id) => plane.shardOfTunnel(id))).toEqual([0, 0, 0, 0]);
      plane.join({
        ...(w.tunnels[0] as object),
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: first[0]!,
        nextTunnelId: first[0]!,
        nextHop: 7,
      } as never);
      expect(plane.shardOfTunnel(first[0]!)).toBe(0);
      await plane.idle();
      expect(plane.stats().workers.map((x) => x.tunnels)).toEqual([33, 32]);
    } finally {
      await plane.close();
    }
  });
});

describe('data plane: control and lifecycle', () => {
  const w = makeWorkload('dataplane/control', 8, 4);
  const tunnel = w.tunnels[0]! as { receiveTunnelId: number };
  const body = (k: number): Uint8Array => {
    const b = w.bodies.slice(0, TUNNEL_DATA_SIZE);
    b[10] = k; // distinct IVs: not replays of each other
    new DataView(b.buffer).setUint32(0, tunnel.receiveTunnelId);
    return b;
  };

  for (const threads of ['inline', 2] as const) {
    it(`join and end take effect for the next message pushed (threads: ${threads})`, async () => {
      const got: Outcome[] = [];
      const plane = createDataPlane({ threads, onOutput: collect(got) });
      try {
        plane.push(body(1), 40); // before join: unknown
        plane.join(w.tunnels[0]!);
        plane.push(body(2), 40);
        plane.push(body(3), 40);
        plane.end(tunnel.receiveTunnelId);
        plane.push(body(4), 40); // after end: expired
        plane.join({ ...w.tunnels[0]!, layerKey: new Uint8Array(32).fill(1) } as never); // re-join with new keys
        plane.push(body(5), 40);
        plane.push(body(6), 41); // pinned to 40
        await plane.idle();
        // The message pushed before the join is an unknown-tunnel drop on the shard its id hashes to; the joined
        // tunnel is placed on the least-loaded shard, so that drop may be reported before or after the tunnel's own
        // messages, which keep their order.
        const unknown = got.filter((o) => o.status === STATUS_UNKNOWN_TUNNEL);
        expect(unknown.map((o) => o.body)).toEqual([Buffer.from(body(1)).toString('hex')]);
        expect(got.filter((o) => o.status !== STATUS_UNKNOWN_TUNNEL).map((o) => o.status)).toEqual([
          STATUS_OK,
          STATUS_OK,
          STATUS_EXPIRED_TUNNEL,
          STATUS_OK,
          STATUS_WRONG_PREV_HOP,
        ]);
        expect(() => plane.join(w.tunnels[0]!)).toThrow(/in use/);
        expect(() => plane.join({ ...w.tunnels[1]!, layerKey: new Uint8Array(5) } as never)).toThrow(RangeError);
      } finally {
        await plane.close();
      }
    });
  }

  it('close() hands out everything accepted, then refuses', async () => {
    const big = makeWorkload('dataplane/close', 2000);
    let out = 0;
    const plane = createDataPlane({
      threads: 2,
      onOutput: (b) => {
        out += b.count;
      },
    });
    for (const t of big.tunnels) plane.join(t);
    let accepted = 0;
    for (let i = 0; i < big.count; i++) {
      if (plane.push(big.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE), big.prevHops[i]!))
        accepted++;
    }
    expect(accepted).toBeGreaterThan(1000);
    const closing = plane.close();
    expect(plane.push(big.bodies.subarray(0, TUNNEL_DATA_SIZE), 1)).toBe(false);
    await closing;
    expect(out).toBe(accepted);
    const s = plane.stats();
    expect(s.queueDepth).toBe(0);
    expect(s.dropped.closed).toBe(1);
    expect(() => plane.join(big.tunnels[0]!)).toThrow(/closed/);
  });

  it('validates bodies at the edge', async () => {
    const plane = createDataPlane({ threads: 'inline', onOutput: () => {} });
    expect(() => plane.push(new Uint8Array(10), 1)).toThrow(RangeError);
    expect(() => plane.push('x' as never, 1)).toThrow(TypeError);
    expect(() => createDataPlane({ threads: -1, onOutput: () => {} })).toThrow(RangeError);
    await plane.close();
  });

  it('prefill: on below the core count with the native AES layer, off otherwise; a missing backend fails at creation', async () => {
    const cores = availableParallelism();
    const planes: DataPlane[] = [];
    const make = (o: Partial<Parameters<typeof createDataPlane>[0]>): DataPlane => {
      const p = createDataPlane({ onOutput: () => {}, maxBatch: 16, ...o });
      planes.push(p);
      return p;
    };
    try {
      expect(make({ threads: cores }).prefill).toBe(false);
      expect(make({ threads: 1, backend: 'hybrid' }).prefill).toBe(false);
      expect(make({ threads: 'inline' }).prefill).toBe(false);
      // The transfer mode is gone: asking for it is a clear error, not a silent fallback.
      expect(() => createDataPlane({ threads: 1, memory: 'transfer' as never, onOutput: () => {} })).toThrow(
        /'transfer' was removed/,
      );
      if (nativeAes) {
        expect(make({ threads: 1 }).prefill).toBe(cores > 1);
        expect(make({ threads: cores, prefill: true }).prefill).toBe(true);
        expect(make({ threads: 1, prefill: false }).prefill).toBe(false);
      } else {
        expect(() => createDataPlane({ threads: 1, backend: 'native', onOutput: () => {} })).toThrow(/native/);
      }
    } finally {
      await Promise.all(planes.map((p) => p.close()));
    }
  });
});

// Seeded TunnelData workloads for the data-plane tests and their single-thread reference outcome.
import { createRng } from '../../src/bench/random.js';
import { TUNNEL_DATA_SIZE } from '../../src/constants.js';
import { LayerEngine } from '../../src/tunnel/engine.js';
import type { TunnelConfig } from '../../src/tunnel/types.js';
import { createReplayFilterBuffer } from '../../src/tunnel/replay-filter.js';
import type { OutputBatch } from '../../src/dataplane/index.js';

export interface Workload {
  tunnels: TunnelConfig[];
  bodies: Uint8Array; // count x 1028
  prevHops: Uint32Array;
  count: number;
}

/** One processed message as seen by the consumer. */
export interface Outcome {
  status: number;
  nextHop: number;
  nextTunnelId: number;
  body: string; // hex
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * `count` messages over participants (pinned and unpinned), OBEPs, IBEPs and ChaCha participants, with replays of
 * earlier messages of the same tunnel, unknown tunnel ids and wrong previous hops mixed in.
 */
export function makeWorkload(seed: string, count: number, tunnelCount = 16): Workload {
  const rng = createRng(seed);
  const key = () => rng.bytes(32);
  const tunnels: TunnelConfig[] = [];
  const expiresAt = Date.now() + 600_000; // a tunnel's usual 10 minutes: the replay filter's window covers it
  for (let t = 0; t < tunnelCount; t++) {
    const receiveTunnelId = 0x1000 + t * 7919;
    const kind = t % 8;
    if (kind === 6) {
      tunnels.push({
        role: 'ibep',
        layer: 'aes',
        receiveTunnelId,
        previousHop: 40 + t,
        hops: [
          { layerKey: key(), ivKey: key() },
          { layerKey: key(), ivKey: key() },
        ],
        expiresAt,
      });
    } else if (kind === 5) {
      tunnels.push({
        role: 'obep',
        layer: 'aes',
        receiveTunnelId,
        nextTunnelId: 0,
        nextHop: 0,
        layerKey: key(),
        ivKey: key(),
        expiresAt,
      });
    } else if (kind === 7) {
      tunnels.push({
        role: 'participant',
        layer: 'chacha',
        receiveTunnelId,
        nextTunnelId: 0x900000 + t,
        nextHop: 300 + t,
        layerKey: key(),
        ivKey: key(),
        inAeadKey: key(),
        outAeadKey: key(),
        previousHop: 40 + t,
        expiresAt,
      });
    } else {
      const cfg: TunnelConfig = {
        role: 'participant',
        layer: 'aes',
        receiveTunnelId,
        nextTunnelId: 0x900000 + t,
        nextHop: 300 + t,
        layerKey: key(),
        ivKey: key(),
        expiresAt,
      };
      if (kind % 2 === 0) cfg.previousHop = 40 + t; // others: first sender fixes it
      tunnels.push(cfg);
    }
  }
  const bodies = new Uint8Array(count * TUNNEL_DATA_SIZE);
  const prevHops = new Uint32Array(count);
  const sent: number[][] = tunnels.map(() => []);
  for (let i = 0; i < count; i++) {
    const o = i * TUNNEL_DATA_SIZE;
    const t = rng.int(tunnels.length);
    const roll = rng.int(100);
    if (roll < 4 && sent[t]!.length > 0) {
      // Replay: an earlier message of the same tunnel, same sender.
      const j = sent[t]![rng.int(sent[t]!.length)]!;
      bodies.copyWithin(o, j * TUNNEL_DATA_SIZE, (j + 1) * TUNNEL_DATA_SIZE);
      prevHops[i] = prevHops[j]!;
      continue;
    }
    rng.fill(bodies.subarray(o, o + TUNNEL_DATA_SIZE));
    const id = roll < 6 ? 0x7f000000 + rng.int(1000) : (tunnels[t] as { receiveTunnelId: number }).receiveTunnelId;
    new DataView(bodies.buffer).setUint32(o, id);
    prevHops[i] = roll >= 6 && roll < 8 ? 999 : 40 + t;
    sent[t]!.push(i);
  }
  return { tunnels, bodies, prevHops, count };
}

/** Tunnel a consumer-side outcome belongs to: by next tunnel id when rewritten, else by body[0..3]. */
export function tunnelOf(o: Outcome, byNext: Map<number, number>): number {
  if (o.status === 0 && byNext.has(o.nextTunnelId)) return byNext.get(o.nextTunnelId)!;
  return parseInt(o.body.slice(0, 8), 16);
}

export function nextIdIndex(tunnels: TunnelConfig[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const t of tunnels) if (t.role === 'participant') m.set(t.nextTunnelId, t.receiveTunnelId);
  return m;
}

/** Groups outcomes by tunnel, keeping order: the comparison key of the tests. */
export function byTunnel(outcomes: Outcome[], tunnels: TunnelConfig[]): Map<number, Outcome[]> {
  const idx = nextIdIndex(tunnels);
  const m = new Map<number, Outcome[]>();
  for (const o of outcomes) {
    const t = tunnelOf(o, idx);
    let l = m.get(t);
    if (!l) m.set(t, (l = []));
    l.push(o);
  }
  return m;
}

export function collect(into: Outcome[]): (b: OutputBatch) => void {
  return (b) => {
    for (let i = 0; i < b.count; i++) {
      into.push({
        status: b.status[i]!,
        nextHop: b.nextHops[i]!,
        nextTunnelId: b.nextTunnelIds[i]!,
        body: hex(b.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE)),
      });
    }
  };
}

/** The single-thread engine on the same input, in arrival order, in batches of `batch`. */
export function reference(w: Workload, batch = 100): Outcome[] {
  const engine = new LayerEngine({ replayFilter: createReplayFilterBuffer({ messagesPerSecond: 1000 }) });
  for (const t of w.tunnels) engine.join(structuredClone(t));
  const out: Outcome[] = [];
  const bodies = w.bodies.slice();
  const status = new Uint8Array(batch);
  const nextHops = new Uint32Array(batch);
  const nextTunnelIds = new Uint32Array(batch);
  for (let s = 0; s < w.count; s += batch) {
    const n = Math.min(batch, w.count - s);
    const b = bodies.subarray(s * TUNNEL_DATA_SIZE, (s + n) * TUNNEL_DATA_SIZE);
    engine.processReceived({
      count: n,
      bodies: b,
      prevHops: w.prevHops.subarray(s, s + n),
      status,
      nextHops,
      nextTunnelIds,
    });
    for (let i = 0; i < n; i++) {
      out.push({
        status: status[i]!,
        nextHop: nextHops[i]!,
        nextTunnelId: nextTunnelIds[i]!,
        body: hex(b.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE)),
      });
    }
  }
  return out;
}

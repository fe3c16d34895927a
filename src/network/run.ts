// `tunnelplane network` as a function (docs/network.md): start our routers, wait for their tunnels, show the live
// view, send the traffic (our routers' tunnels, or I2CP between two i2pd routers with --i2pd), and end with the
// summary. Everything it starts it stops, and its temporary directories go with it, on success, failure or abort.
import { OurNetwork, type OurRouter } from './ours.js';
import { LiveView, renderTable } from './view.js';
import { cpuPerForwarded } from './cpu.js';
import { TrafficRun, deliverySucceeded, trafficFigures, type TrafficPath, type TrafficResult } from './traffic.js';
import type { DataEvent } from '../router/router.js';
import type { LocalTunnel } from '../router/tunnels/creator.js';
import type { KillReport, NetworkOptions, NetworkSummary } from './types.js';

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export async function runNetwork(o: NetworkOptions): Promise<NetworkSummary> {
  if (o.i2pd > 0) {
    // The i2pd mode needs our routers to answer i2pd's netDb (floodfill, LeaseSet stores and lookups).
    const { runI2pdNetwork } = await import('./i2pd.js');
    return runI2pdNetwork(o);
  }
  const emit = o.onEvent ?? (() => undefined);
  const net = new OurNetwork({
    routers: o.routers,
    ...(o.hops !== undefined ? { hops: o.hops } : {}),
    ...(o.dataPlane ? { dataPlane: o.dataPlane } : {}),
    ...(o.testIntervalMs !== undefined ? { testIntervalMs: o.testIntervalMs } : {}),
    ...(o.baseDir ? { baseDir: o.baseDir } : {}),
  });
  const view = new LiveView();
  const t0 = performance.now();
  let phase = 'starting';
  let traffic: TrafficRun | undefined;
  const sample = () =>
    emit({
      event: 'stats',
      t: Math.round((performance.now() - t0) / 100) / 10,
      phase,
      routers: view.rows(net.stats()),
      ...(traffic ? { traffic: traffic.snapshot() } : {}),
    });
  const ticker = setInterval(sample, o.intervalMs ?? 1000);
  try {
    await net.start();
    for (const e of net.readyEvents()) emit(e);
    phase = 'building tunnels';
    const readyBy = performance.now() + (o.readyTimeoutMs ?? 60_000);
    while (!net.ready() && performance.now() < readyBy && !o.signal?.aborted) await sleep(100);
    if (!net.ready() && !o.signal?.aborted) emit({ event: 'warning', message: 'not every router has tunnels yet' });
    emit({
      event: 'tunnels',
      ms: Math.round(performance.now() - t0),
      hops: net.hops,
      perRouter: net.members.map((m) => ({
        inbound: net.tunnels(m, 'inbound').length,
        outbound: net.tunnels(m, 'outbound').length,
      })),
    });
    phase = 'traffic';
    const ours = net.identHexes();
    let hopsOurs = true;
    const checkHops = (t: LocalTunnel) => {
      for (const h of t.hops) if (!ours.has(hexOf(h))) hopsOurs = false;
    };
    const pairs: [OurRouter, OurRouter][] = [];
    const byIdent = new Map(net.members.map((m) => [m.ident, m]));
    let killedAt: number | undefined;
    const run: TrafficRun = new TrafficRun({
      messages: o.messages,
      ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.window !== undefined ? { window: o.window } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      beforeSend: async (i) => {
        if (!o.kill || i !== o.kill.atMessage) return;
        const m = net.members[o.kill.index];
        if (!m || !m.alive) return;
        killedAt = run.elapsedMs();
        emit({
          event: 'kill',
          router: m.index,
          ident: m.ident,
          atMessage: i,
          t: Math.round((performance.now() - t0) / 100) / 10,
        });
        await net.kill(m.index);
        forgotten += run.forget(m.ident);
      },
      path: (i) => {
        const alive = net.alive();
        if (alive.length < 2) return undefined;
        pairs.length = 0;
        for (const x of alive) for (const y of alive) if (x !== y) pairs.push([x, y]);
        const [x, y] = pairs[i % pairs.length]!;
        const ob = pick(net.tunnels(x, 'outbound'));
        const ib = pick(net.tunnels(y, 'inbound'));
        if (!ob || !ib) return undefined;
        checkHops(ob);
        checkHops(ib);
        return ourPath(x, y, ob, ib);
      },
    });
    let forgotten = 0;
    traffic = run;
    for (const m of net.members)
      m.router.on('data', (e: DataEvent) => {
        if (byIdent.get(m.ident)?.alive) run.received(m.ident, e.payload);
      });
    const before = net.members.map((m) => m.router.stats().tunnelDataOut);
    const cpu0 = process.cpuUsage();
    const r = await run.run();
    const cpu = process.cpuUsage(cpu0);
    const forwarded = net.members.map((m, i) => m.router.stats().tunnelDataOut - before[i]!);
    phase = 'done';
    sample();
    const kill = killedAt !== undefined ? killReport(r, o.kill!.index, killedAt, forgotten) : undefined;
    return summarize(r, net, hopsOurs, kill, forwarded, cpuPerForwarded(cpu, forwarded));
  } finally {
    clearInterval(ticker);
    await net.stop();
  }

  function summarize(
    r: TrafficResult,
    n: OurNetwork,
    hopsOurs: boolean,
    kill: KillReport | undefined,
    forwarded: number[],
    cpuUs: number,
  ): NetworkSummary {
    const s: NetworkSummary = {
      event: 'summary',
      ...trafficFigures(r),
      hopsOurs: hopsOurs && r.sent > 0,
      mode: 'ours',
      routers: o.routers,
      i2pd: 0,
      hops: n.hops,
      seed: r.seed,
      bytesDelivered: r.bytesDelivered,
      elapsedMs: r.elapsedMs,
      forwarded,
      cpuUsPerForwarded: cpuUs,
      ok: false,
    };
    if (kill) s.kill = kill;
    s.ok = kill ? killSucceeded(s, kill) : deliverySucceeded(s);
    return s;
  }
}

/**
 * With a router killed, success is that delivery resumed: none corrupted, the gap shorter than a minute, and messages
 * sent after it (all of which arrived, by the gap's definition) (docs/network.md "Faults").
 */
export function killSucceeded(s: { corrupted: number }, k: KillReport): boolean {
  return (
    s.corrupted === 0 &&
    k.gapMs < 60_000 &&
    k.sentAfterGap > 0 &&
    k.deliveredAfterGap >= Math.ceil(0.99 * k.sentAfterGap)
  );
}

/**
 * The interruption a kill caused (docs/network.md "Faults"). Delivery is back for good once both the last lost message
 * was sent (into a tunnel through the dead router, before its pool dropped that tunnel after two failed tests) and
 * the longest pause without deliveries (no usable tunnel while the pools rebuild) is over: the gap runs from the kill
 * to the later of the two.
 */
function killReport(r: TrafficResult, index: number, atMsExact: number, forgotten: number): KillReport {
  const atMs = Math.round(atMsExact);
  const after = r.timeline.filter((m) => m.at >= atMs && !m.forgotten);
  const lost = after.filter((m) => !m.delivered);
  const lastLost = lost.length === 0 ? atMs : lost[lost.length - 1]!.at;
  let prev = atMs;
  let pauseMs = 0;
  let pauseEnd = atMs;
  for (const a of r.arrivals) {
    if (a < atMs) continue;
    if (a - prev > pauseMs) {
      pauseMs = a - prev;
      pauseEnd = a;
    }
    prev = a;
  }
  const gapEnd = Math.max(lastLost, pauseEnd);
  const afterGap = after.filter((m) => m.at > gapEnd);
  return {
    router: index,
    atMs,
    lostAfter: lost.length,
    gapMs: gapEnd - atMs,
    pauseMs,
    sentAfterGap: afterGap.length,
    deliveredAfterGap: afterGap.filter((m) => m.delivered).length,
    forgotten,
  };
}

function ourPath(x: OurRouter, y: OurRouter, ob: LocalTunnel, ib: LocalTunnel): TrafficPath {
  return {
    from: x.ident,
    to: y.ident,
    send: (p) => x.router.sendData(p, { gateway: ib.gateway, tunnelId: ib.gatewayTunnelId }, ob) !== 0,
  };
}

function pick<T>(list: T[]): T | undefined {
  return list.length === 0 ? undefined : list[Math.floor(Math.random() * list.length)];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { renderTable };

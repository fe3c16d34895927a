// The network's live view (docs/network.md "Live view"): per router, sessions, netDb entries, transit tunnels by role,
// its own tunnels, I2NP messages and NTCP2 bytes per second (in / out) since the last sample, and drops by reason; plus the
// traffic so far. One JSON object per sample with --json, or a table refreshed in place on a terminal.
import type { RouterStats } from '../router/router.js';
import type { TrafficSnapshot } from './traffic.js';

export interface RouterSample {
  index: number;
  ident: string;
  floodfill: boolean;
  alive: boolean;
  stats: RouterStats;
}

export interface RouterRow {
  router: number;
  ident: string;
  floodfill: boolean;
  alive: boolean;
  sessions: number;
  transit: { participant: number; obep: number; ibgw: number };
  tunnels: { inbound: number; outbound: number };
  /** NetDb entries held: RouterInfos, LeaseSets. */
  netdb: { routerInfos: number; leaseSets: number };
  messagesPerSecond: { in: number; out: number };
  bytesPerSecond: { in: number; out: number };
  /** Totals since start, by reason (router, transport, data plane, transit), nonzero only. */
  dropped: Record<string, number>;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Rates between two samples of each router's counters. */
export class LiveView {
  private last = new Map<number, { at: number; msgIn: number; msgOut: number; bytesIn: number; bytesOut: number }>();

  rows(samples: RouterSample[], now = performance.now()): RouterRow[] {
    return samples.map((s) => {
      const st = s.stats;
      const cur = {
        at: now,
        msgIn: sum(st.i2npIn),
        msgOut: sum(st.i2npOut),
        bytesIn: st.bytesIn,
        bytesOut: st.bytesOut,
      };
      const prev = this.last.get(s.index);
      this.last.set(s.index, cur);
      const dt = prev ? (now - prev.at) / 1000 : 0;
      const rate = (a: number, b: number | undefined) =>
        dt > 0 && b !== undefined ? Math.max(0, Math.round((a - b) / dt)) : 0;
      const dropped: Record<string, number> = {};
      for (const [k, v] of Object.entries(st.dropped)) if (v > 0) dropped[k] = v;
      for (const [k, v] of Object.entries(st.transit?.dropped ?? {})) if (v > 0) dropped[`transit.${k}`] = v;
      return {
        router: s.index,
        ident: s.ident.slice(0, 8),
        floodfill: s.floodfill,
        alive: s.alive,
        sessions: st.sessions,
        transit: {
          participant: st.transit?.participant ?? 0,
          obep: st.transit?.obep ?? 0,
          ibgw: st.transit?.ibgw ?? 0,
        },
        tunnels: { inbound: st.tunnels?.inbound ?? 0, outbound: st.tunnels?.outbound ?? 0 },
        netdb: { routerInfos: st.netdb?.routerInfos ?? 0, leaseSets: st.netdb?.leaseSets ?? 0 },
        messagesPerSecond: { in: rate(cur.msgIn, prev?.msgIn), out: rate(cur.msgOut, prev?.msgOut) },
        bytesPerSecond: { in: rate(cur.bytesIn, prev?.bytesIn), out: rate(cur.bytesOut, prev?.bytesOut) },
        dropped,
      };
    });
  }
}

function human(n: number): string {
  if (n >= 10 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(0)}M`;
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)}M`;
  if (n >= 10 * 1024) return `${(n / 1024).toFixed(0)}K`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)}K`;
  return String(n);
}

/** The table: one line per router, then the traffic line. */
export function renderTable(
  rows: RouterRow[],
  traffic: TrafficSnapshot | undefined,
  phase: string,
  elapsedS: number,
): string[] {
  const head = `tunnelplane network  ${phase}  ${elapsedS.toFixed(0)} s`;
  const cols =
    'router      ff sess  netdb ri/ls  transit p/obep/ibgw  tunnels in/out   msg/s in/out   bytes/s in/out  dropped';
  const lines = [head, cols];
  for (const r of rows) {
    const drops = Object.entries(r.dropped)
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
    lines.push(
      [
        `${r.router} ${r.ident}`.padEnd(11),
        (r.floodfill ? 'f' : '-').padEnd(2),
        (r.alive ? String(r.sessions) : 'dead').padStart(4),
        `${r.netdb.routerInfos}/${r.netdb.leaseSets}`.padStart(12),
        `${r.transit.participant}/${r.transit.obep}/${r.transit.ibgw}`.padStart(20),
        `${r.tunnels.inbound}/${r.tunnels.outbound}`.padStart(16),
        `${r.messagesPerSecond.in}/${r.messagesPerSecond.out}`.padStart(14),
        `${human(r.bytesPerSecond.in)}/${human(r.bytesPerSecond.out)}`.padStart(16),
        ` ${drops || '-'}`,
      ].join(' '),
    );
  }
  if (traffic) {
    lines.push(
      `traffic  sent ${traffic.sent}  delivered ${traffic.delivered}  in flight ${traffic.inFlight}  lost ${traffic.lost}  corrupted ${traffic.corrupted}  (${human(traffic.bytesDelivered)}B delivered)`,
    );
  }
  return lines;
}

// Output of `tunnelplane balance`: one JSON object per line (--json), or a live status for people.
import type { BalancerEvent, RouterStatus } from './balancer.js';

export function eventJson(e: BalancerEvent): string {
  return JSON.stringify(e);
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** One human-readable line for an event. */
export function eventLine(e: BalancerEvent, now: number): string {
  const t = clock(now);
  switch (e.event) {
    case 'session':
      return `${t} ${e.router}: session ${e.sessionId} created`;
    case 'leases':
      return `${t} ${e.router}: offers ${e.leases.length} lease${e.leases.length === 1 ? '' : 's'}`;
    case 'published': {
      const per = new Map<string, number>();
      for (const l of e.leases) per.set(l.router, (per.get(l.router) ?? 0) + 1);
      const parts = [...per].map(([r, n]) => `${r}×${n}`).join(' ');
      return `${t} published LeaseSet2 ${clock(e.published)} with ${e.leases.length} leases (${parts}) to ${e.routers.length} router${e.routers.length === 1 ? '' : 's'}`;
    }
    case 'router-lost':
      return `${t} ${e.router}: LOST (${e.reason}); retry in ${Math.round(e.retryInMs / 1000)} s`;
    case 'router-back':
      return `${t} ${e.router}: back, session ${e.sessionId}`;
    case 'error':
      return `${t} ${e.router ? `${e.router}: ` : ''}error: ${e.message}`;
  }
}

/** The status block: routers, sessions, leases per router, last publish. */
export function statusBlock(
  routers: RouterStatus[],
  lastPublishAt: number | undefined,
  lastPublishedSec: number,
  publishCount: number,
  now: number,
): string {
  const up = routers.filter((r) => r.state === 'session' || r.state === 'ready').length;
  const head = `routers ${up}/${routers.length} up · last publish ${lastPublishAt === undefined ? 'never' : `${clock(lastPublishAt)} (published=${lastPublishedSec}, #${publishCount})`}`;
  const w = Math.max(...routers.map((r) => r.router.length));
  const rows = routers.map((r) => {
    const sid = r.sessionId === undefined ? '-' : String(r.sessionId);
    const extra =
      r.state === 'down' && r.retryAt !== undefined
        ? `retry in ${Math.max(0, Math.round((r.retryAt - now) / 1000))} s${r.lastError ? ` (${r.lastError})` : ''}`
        : '';
    return `  ${r.router.padEnd(w)}  ${r.state.padEnd(10)} session ${sid.padEnd(5)}  leases offered ${String(r.offered).padStart(2)} published ${String(r.published).padStart(2)}  ${extra}`.trimEnd();
  });
  return [head, ...rows].join('\n');
}

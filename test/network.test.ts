// `tunnelplane network` with our routers alone (docs/network.md): three routers in one process building 2-hop
// tunnels through each other, 1 000 messages of 1 B to 30 KB from one router's outbound tunnel to another's inbound
// tunnel, every byte checked; a router stopped mid-run and the pools rebuilding around it; the checker itself
// catching a corrupted and a lost message; the CLI's --json lines and summary, its exit status, and its clean-up on
// SIGINT (temporary directories gone, no process left).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNetwork } from '../src/network/run.js';
import { TrafficRun, deliverySucceeded } from '../src/network/traffic.js';
import type { NetworkEvent } from '../src/network/types.js';
import { testSeed } from './helpers/seed.js';

const BIN = fileURLToPath(new URL('../bin/tunnelplane.js', import.meta.url));

describe('the traffic checker', () => {
  it('counts a flipped byte as corrupted, a dropped message as lost, and fails the run', async () => {
    let run: TrafficRun;
    const deliver = (p: Uint8Array) => setImmediate(() => run.received('B', p));
    run = new TrafficRun({
      messages: 200,
      seed: testSeed('network checker'),
      timeoutMs: 500,
      path: (i) => ({
        from: 'A',
        to: 'B',
        send: (p) => {
          if (i === 17) p[p.length - 1]! ^= 1;
          if (i !== 42) deliver(p);
          return true;
        },
      }),
    });
    const r = await run.run();
    expect(r.sent).toBe(200);
    expect(r.delivered).toBe(198);
    expect(r.corrupted).toBe(1);
    expect(r.lost).toBe(2); // the corrupted one never matched, and the dropped one
    expect(deliverySucceeded(r)).toBe(false);
    expect(deliverySucceeded({ sent: 200, delivered: 198, corrupted: 0 })).toBe(true);
    expect(deliverySucceeded({ sent: 200, delivered: 197, corrupted: 0 })).toBe(false);
  });
});

describe('our routers alone', () => {
  it('3 routers, 2-hop tunnels, 1 000 messages: >= 99 % delivered, none corrupted, every hop ours', async () => {
    const events: NetworkEvent[] = [];
    const s = await runNetwork({
      routers: 3,
      i2pd: 0,
      messages: 1000,
      seed: testSeed('network 1000'),
      dataPlane: { threads: 'inline' },
      onEvent: (e) => events.push(e),
    });
    console.log(`[network 1000] ${JSON.stringify({ ...s, forwarded: s.forwarded })}`);
    expect(s.sent).toBe(1000);
    expect(s.corrupted).toBe(0);
    expect(s.delivered).toBeGreaterThanOrEqual(990);
    expect(s.ok).toBe(true);
    expect(s.hopsOurs).toBe(true);
    expect(s.hops).toBe(2);
    expect(s.latencyMsP99).toBeGreaterThanOrEqual(s.latencyMsP50);
    expect(s.messagesPerSecond).toBeGreaterThan(0);
    // Every router forwarded tunnel messages for the others (participant, OBEP, IBGW).
    expect(s.forwarded.every((n) => n > 0)).toBe(true);
    const last = events.filter((e) => e.event === 'stats').at(-1);
    expect(last && last.event === 'stats' && last.phase).toBe('done');
    if (last?.event === 'stats') {
      for (const r of last.routers) {
        expect(r.sessions).toBe(2);
        expect(r.transit.participant + r.transit.obep + r.transit.ibgw).toBeGreaterThan(0);
      }
    }
    // The temporary directory is gone.
    const ready = events.find((e) => e.event === 'ready');
    expect(ready?.event === 'ready' && existsSync(dirname(ready.dataDir))).toBe(false);
  }, 120_000);

  it('a router stopped mid-run: the pools rebuild around it and delivery resumes (gap reported)', async () => {
    const events: NetworkEvent[] = [];
    const s = await runNetwork({
      routers: 4,
      i2pd: 0,
      messages: 600,
      durationMs: 15_000,
      seed: testSeed('network kill'),
      kill: { index: 2, atMessage: 200 },
      dataPlane: { threads: 'inline' },
      onEvent: (e) => events.push(e),
    });
    console.log(`[network kill] ${JSON.stringify(s.kill)} sent ${s.sent} delivered ${s.delivered}`);
    expect(events.some((e) => e.event === 'kill' && e.router === 2)).toBe(true);
    expect(s.corrupted).toBe(0);
    const k = s.kill!;
    expect(k.router).toBe(2);
    expect(k.gapMs).toBeLessThan(60_000);
    // Delivery resumed: messages were sent after the gap and every one of them arrived.
    expect(k.sentAfterGap).toBeGreaterThan(50);
    expect(k.deliveredAfterGap).toBe(k.sentAfterGap);
    expect(s.ok).toBe(true);
    // The stopped router shows as dead in the live view; the others kept their sessions to each other.
    const last = events.filter((e) => e.event === 'stats').at(-1);
    if (last?.event !== 'stats') throw new Error('no stats');
    expect(last.routers[2]!.alive).toBe(false);
    for (const r of last.routers.filter((x) => x.alive)) expect(r.sessions).toBeGreaterThanOrEqual(2);
  }, 120_000);
});

interface CliResult {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function cli(args: string[], onLine?: (o: Record<string, unknown>, child: ReturnType<typeof spawn>) => void) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'network', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const o = JSON.parse(line) as Record<string, unknown>; // every line is JSON
        lines.push(o);
        onLine?.(o, child);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, lines, stderr });
    });
  });
}

describe('tunnelplane network (CLI)', () => {
  it('--json: ready, tunnels and stats lines, then the summary line; exit 0', async () => {
    const r = await cli(['--routers', '3', '--messages', '150', '--json', '--seed', String(testSeed('network cli'))]);
    expect(r.code, r.stderr).toBe(0);
    const kinds = r.lines.map((l) => l.event);
    expect(kinds.filter((k) => k === 'ready')).toHaveLength(3);
    expect(kinds).toContain('tunnels');
    expect(kinds).toContain('stats');
    const s = r.lines.at(-1)!;
    expect(s.event).toBe('summary');
    for (const f of ['sent', 'delivered', 'corrupted', 'latencyMsP50', 'latencyMsP99', 'messagesPerSecond'])
      expect(typeof s[f], f).toBe('number');
    expect(s.sent).toBe(150);
    expect(s.corrupted).toBe(0);
    expect(s.delivered as number).toBeGreaterThanOrEqual(149);
    expect(s.hopsOurs).toBe(true);
    const stats = r.lines.find((l) => l.event === 'stats') as {
      routers: { dropped: unknown; bytesPerSecond: unknown }[];
    };
    expect(stats.routers).toHaveLength(3);
    expect(stats.routers[0]!.bytesPerSecond).toBeDefined();
    for (const l of r.lines.filter((x) => x.event === 'ready')) expect(existsSync(l.dataDir as string)).toBe(false);
  }, 110_000);

  it('SIGINT mid-run: stops everything, removes its directories, exits 130 with a summary', async () => {
    let sent = false;
    const r = await cli(['--routers', '3', '--messages', '100000', '--duration', '600', '--json'], (o, child) => {
      if (!sent && o.event === 'stats' && o.phase === 'traffic') {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.lines.at(-1)!.event).toBe('summary');
    const dirs = r.lines.filter((l) => l.event === 'ready').map((l) => l.dataDir as string);
    expect(dirs).toHaveLength(3);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
  }, 110_000);

  it('rejects bad options with usage (exit 2)', async () => {
    const r = await cli(['--i2pd', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--i2pd needs at least 2/);
  }, 30_000);
});

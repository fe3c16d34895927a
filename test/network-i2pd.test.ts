// `tunnelplane network --i2pd 2` (docs/network.md "With i2pd", netdb-floodfill.md §8): three of our routers (two
// floodfill) and two i2pd 2.45.1 routers that know and trust only ours. An I2CP session (our client) on each i2pd,
// both LeaseSets found through our floodfills, 200 messages of 1 B to 30 KB from the destination on i2pd A to the one
// on i2pd B, every byte checked: >= 99 % delivered, none corrupted, every hop of both destinations' tunnels one of our
// routers (i2pd's console) and our routers forwarding the traffic (their counters). i2pd 2.45.1 refuses inbound links
// from 127.0.0.0/8, so nothing passes between A and B except through our routers. With TUNNELPLANE_I2PD_STREAMING=1
// also i2pd's own streaming: 64 KiB into a client tunnel on A come back from an echo server behind a server tunnel on
// B (opt-in: it rests on when i2pd publishes B's LeaseSet, a race inside i2pd; docs/network.md "i2pd streaming").
// Skips without i2pd, except under CI.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { runNetwork } from '../src/network/run.js';
import type { NetworkEvent } from '../src/network/types.js';
import { i2pdAvailable } from './helpers/i2pd.js';
import { testSeed } from './helpers/seed.js';

const avail = i2pdAvailable();
if (!avail.ok && process.env.CI) throw new Error(`i2pd test required under CI: ${avail.why}`);
if (!avail.ok) console.log(`[network-i2pd] skipped: ${avail.why}`);

describe.skipIf(!avail.ok)('network with i2pd routers that know only ours', () => {
  it('3 of ours + 2 i2pd: 200 messages A -> B over I2CP, >= 99 % delivered, none corrupted, every hop ours', async () => {
    const events: NetworkEvent[] = [];
    const s = await runNetwork({
      routers: 3,
      i2pd: 2,
      messages: 200,
      i2pdPorts: { i2cp: 27854, http: 27270, transport: 47300 },
      seed: testSeed('network i2pd'),
      dataPlane: { threads: 'inline' },
      onEvent: (e) => events.push(e),
    });
    console.log(`[network-i2pd] ${JSON.stringify(s)}`);
    expect(s.mode).toBe('i2pd');
    expect(s.sent).toBe(200);
    expect(s.corrupted).toBe(0);
    expect(s.delivered).toBeGreaterThanOrEqual(198);
    expect(s.ok).toBe(true);
    // The destinations' one-hop tunnels (§8.1) are all through our routers, as i2pd's console lists them ...
    expect(s.i2pdTunnelHops!.length).toBeGreaterThan(0);
    const ours = new Set(events.flatMap((e) => (e.event === 'ready' ? [e.ident.slice(0, 4)] : [])));
    for (const t of s.i2pdTunnelHops!) for (const h of t) expect(ours.has(h), `hop ${h}`).toBe(true);
    expect(s.hopsOurs).toBe(true);
    // ... and our routers carried the traffic: far more tunnel messages than the 200 messages (fragments).
    expect(s.forwarded.reduce((a, b) => a + b, 0)).toBeGreaterThan(200);
    const last = events.filter((e) => e.event === 'stats').at(-1);
    if (last?.event !== 'stats') throw new Error('no stats');
    // Each of ours has sessions with the other two and with both i2pd routers, and holds LeaseSets as floodfill.
    for (const r of last.routers) expect(r.sessions).toBeGreaterThanOrEqual(3);
    expect(last.routers.some((r) => r.netdb.leaseSets >= 2)).toBe(true);
    // Everything is gone: our directories (the i2pd ones were under them, their routers stopped by pidfile).
    for (const e of events) if (e.event === 'ready') expect(existsSync(e.dataDir)).toBe(false);
  }, 300_000);

  it.skipIf(!process.env.TUNNELPLANE_I2PD_STREAMING)(
    "i2pd's own streaming: 64 KiB into A's client tunnel come back from the echo server behind B's server tunnel",
    async () => {
      const s = await runNetwork({
        routers: 3,
        i2pd: 2,
        messages: 20,
        streamingBytes: 64 * 1024,
        i2pdPorts: { i2cp: 27874, http: 27290, transport: 47320 },
        seed: testSeed('network i2pd streaming'),
        dataPlane: { threads: 'inline' },
      });
      console.log(`[network-i2pd streaming] ${JSON.stringify(s.streaming)}`);
      expect(s.streaming, JSON.stringify(s.streaming)).toMatchObject({ ok: true, bytes: 65536, echoed: 65536 });
      expect(s.ok).toBe(true);
    },
    300_000,
  );
});

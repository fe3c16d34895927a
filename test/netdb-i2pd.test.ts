// i2pd 2.45.1 uses our router as its floodfill (netdb-floodfill.md §2-§6, §8): our router X runs in-process as the
// only floodfill and the only hop (transit on); i2pd knows only X (`i2pd-local --peer`, trust X, one-hop tunnels) and
// hosts a destination for our I2CP client, with an X25519 LeaseSet key. Proof, from both sides:
// - i2pd publishes its RouterInfo to X (DatabaseStore with a reply token over its link): "Publishing confirmed" in
//   its log; X holds i2pd's RouterInfo, verified.
// - the destination publishes its LeaseSet2 (Noise-N garlic through its outbound tunnel, reply through its inbound
//   tunnel whose gateway is X): "Publishing LeaseSet confirmed"; X holds the LeaseSet2, its exact bytes.
// - 10 s later the destination looks its LeaseSet up at X (flags 0x15: the reply in a single-tag garlic): X answers
//   with the DatabaseStore and i2pd logs "Published LeaseSet verified" (it compares the bytes).
// Skips without i2pd, except under CI.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRouter, type Router } from '../src/router/router.js';
import { parseLeaseSet2, verifyLeaseSet2 } from '../src/leaseset/leaseset2.js';
import { I2cpClient } from '../src/i2cp/client.js';
import { b32Address, destinationHash, generatePrivateKeys } from '../src/keys/index.js';
import {
  i2pdGate,
  leaseSetAnswerer,
  localRouter,
  logTail,
  readLog,
  startI2pdOnOurs,
  stopRouter,
  waitFor,
} from './helpers/i2pd.js';

const runs = i2pdGate('[netdb-i2pd]');

const BASE = '/tmp/tunnelplane-test-netdb-i2pd';
const OUR_PORT = 44490;
const PORTS = { i2cp: 24954, http: 24370, transport: 44400 };

describe.skipIf(!runs)('i2pd 2.45.1 with our router as its floodfill', () => {
  const r = localRouter(BASE, 0, PORTS);
  let x: Router | undefined;
  let client: I2cpClient | undefined;
  afterAll(async () => {
    client?.close();
    await stopRouter(r);
    await x?.stop(500);
  }, 40_000);

  it('publishes its RouterInfo and its LeaseSet2 to us, and verifies the LeaseSet with an encrypted lookup', async () => {
    rmSync(BASE, { recursive: true, force: true });
    mkdirSync(`${BASE}/ours`, { recursive: true });
    x = createRouter({
      dataDir: `${BASE}/ours`,
      port: OUR_PORT,
      floodfill: true,
      dataPlane: { threads: 'inline' },
      tunnels: { exploratory: false },
    });
    const ready = await x.start();
    const x4 = ready.ident.slice(0, 4);
    await startI2pdOnOurs(r, { peers: [ready.routerInfo], trust: [ready.ident], quantity: 2 });
    expect(readLog(r)).toMatch(/NetDb: 1 routers loaded \(1 floodfils\)/);
    // A destination on i2pd through our I2CP client: one-hop tunnels (all through X), an X25519 LeaseSet key. i2pd
    // publishes a LeaseSet only when it has an inbound and an outbound tunnel and never retries a publish it skipped
    // for want of one (netdb-floodfill.md §6.3), so the LeaseSet is handed over a moment after it is asked for, when
    // the outbound tunnels built at the same time exist too.
    const pk = generatePrivateKeys();
    const answer = leaseSetAnswerer(pk);
    const b32 = b32Address(pk.destination).replace(/\.b32\.i2p$/, '');
    client = await I2cpClient.connect({ host: '127.0.0.1', port: r.i2cpPort });
    client.onMessage((m) => {
      if (m.type !== 'RequestVariableLeaseSet') return;
      setTimeout(() => {
        const ls = answer.leaseSet(m.leases);
        if (!client!.closed) client!.sendCreateLeaseSet2(ls, answer.privateKeys);
      }, 3000);
    });
    await client.createSession(pk, {
      'inbound.length': '1',
      'outbound.length': '1',
      'inbound.quantity': '2',
      'outbound.quantity': '2',
      'i2cp.leaseSetEncType': '4',
    });

    try {
      // (1) Its RouterInfo: a DatabaseStore with a reply token straight over its link, our DeliveryStatus confirms it.
      const token = await waitFor('i2pd publishing its RouterInfo to us, confirmed', 60_000, () => {
        const m = new RegExp(
          `NetDb: Publishing our RouterInfo to ${x4.replace(/[~+-]/g, '.')}[^ ]*\\. reply token=(\\d+)`,
        ).exec(readLog(r));
        return m && readLog(r).includes(`Publishing confirmed. reply token=${m[1]}`) ? m[1] : undefined;
      });
      console.log(`[netdb-i2pd] RouterInfo publish confirmed (token ${token})`);
      const i2pdHash = [...x.netDb.routerInfos()].find((e) => !e.floodfill);
      expect(i2pdHash).toBeDefined();
      expect(x.stats().i2npIn['1'] ?? 0).toBeGreaterThan(0);

      // (2) Its destination's LeaseSet2, through its tunnels (all through us), stored here and confirmed there.
      await waitFor('i2pd publishing its LeaseSet, confirmed', 90_000, () =>
        readLog(r).includes(`Destination: Publishing LeaseSet confirmed for ${b32}`),
      );
      const held = [...x.netDb.leaseSets()];
      expect(held).toHaveLength(1);
      expect(Buffer.from(held[0]!.hash).equals(Buffer.from(destinationHash(pk.destination)))).toBe(true);
      const ls = parseLeaseSet2(held[0]!.bytes);
      expect(ls.ok).toBe(true);
      if (!ls.ok) return;
      expect(verifyLeaseSet2(ls.value)).toBe(true);
      const destHash = createHash('sha256').update(ls.value.destination.bytes).digest();
      expect(Buffer.from(held[0]!.hash).equals(destHash)).toBe(true);
      expect(ls.value.leases.length).toBeGreaterThan(0);
      for (const l of ls.value.leases) expect(Buffer.from(l.gateway).equals(Buffer.from(x.identHash))).toBe(true);

      // (3) The verification lookup (ECIES reply through its inbound tunnel): i2pd got our DatabaseStore, byte-equal.
      await waitFor('i2pd verifying its LeaseSet at our floodfill', 60_000, () =>
        readLog(r).includes(`Destination: Published LeaseSet verified for ${b32}`),
      );
      const s = x.stats().netdb!;
      console.log(`[netdb-i2pd] our netdb: ${JSON.stringify(s)}`);
      expect(s.lookups).toBeGreaterThan(0);
      expect(s.lookupsFound).toBeGreaterThan(0);
      expect(s.leaseSets).toBe(1);
      expect(s.deliveryStatusSent).toBeGreaterThanOrEqual(2);
      const bad = Object.keys(s.dropped).filter((k) => /signature|malformed|key-mismatch|times|elgamal|gzip/.test(k));
      expect(bad).toEqual([]);
      const log = readLog(r);
      expect(log).not.toMatch(/Symmetric key tagset AEAD decryption failed|unexpected block/);
      expect(log).not.toMatch(/Couldn't find published LeaseSet/);
    } finally {
      const lines = logTail(r, /NetDb|Destination|LeaseSet|Garlic/, 40);
      console.log(`[netdb-i2pd] i2pd log (netDb lines, last 40):\n${lines}`);
      console.log(
        `[netdb-i2pd] our stats: ${JSON.stringify(x.stats().netdb)} dropped ${JSON.stringify(x.stats().dropped)}`,
      );
    }
  }, 300_000);
});

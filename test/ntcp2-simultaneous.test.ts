// Simultaneous dial between two of our routers over 127.0.0.1 (docs/ntcp2.md §4): each round both routers dial the
// other at once, with numbered messages sent from both sides before the dials, while the handshakes run and after
// they settle. Every message must arrive exactly once and each router must end with one session for the other, the
// two ends of one TCP connection, initiated by the router with the smaller hash.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouter, type Router } from '../src/router/router.js';
import { sleep, until } from './helpers/ntcp2-peer.js';

/** I2NP Data (i2np.md): a type the router leaves to an installed handler. */
const TYPE = 20;
const ROUNDS = Number(process.env.NTCP2_SIMULTANEOUS_ROUNDS ?? 25);
const BEFORE = 8;
const DURING = 30;
const AFTER = 8;

const dirs: string[] = [];
const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop(500)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function started(): Promise<Router> {
  const dir = mkdtempSync(join(tmpdir(), 'tp-simul-'));
  dirs.push(dir);
  const r = createRouter({ dataDir: dir, port: 0, dataPlane: { threads: 'inline' }, tunnels: false });
  routers.push(r);
  await r.start();
  return r;
}

/** Body of message `seq` of `round` from side `from` (0 = A, 1 = B). */
function body(round: number, from: number, seq: number): Uint8Array {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, round);
  dv.setUint32(4, from);
  dv.setUint32(8, seq);
  return b;
}

describe('simultaneous NTCP2 dial between two routers', () => {
  it('loses no message and leaves one session per peer', { timeout: 120_000 }, async () => {
    const a = await started(),
      b = await started();
    a.addPeer(b.routerInfo);
    b.addPeer(a.routerInfo);
    const side = [a, b] as const;
    /** Arrivals at each side: key round:from:seq -> count. */
    const got = [new Map<string, number>(), new Map<string, number>()];
    for (const [i, r] of side.entries()) {
      r.handle(TYPE, (m) => {
        const dv = new DataView(m.body.buffer, m.body.byteOffset, m.body.byteLength);
        const k = `${dv.getUint32(0)}:${dv.getUint32(4)}:${dv.getUint32(8)}`;
        got[i]!.set(k, (got[i]!.get(k) ?? 0) + 1);
      });
    }
    const sent = [0, 0];
    let refused = 0;
    const seq = [0, 0];
    const send = (round: number, from: 0 | 1) => {
      const to = side[1 - from]!;
      if (side[from]!.send(to.identHash, TYPE, body(round, from, seq[from]!++))) sent[from]!++;
      else refused++;
    };
    const settled = () =>
      a.ntcp2.stats.connections === 1 &&
      b.ntcp2.stats.connections === 1 &&
      a.ntcp2.session(b.identHash)?.state === 'established' &&
      b.ntcp2.session(a.identHash)?.state === 'established';

    for (let round = 0; round < ROUNDS; round++) {
      seq[0] = seq[1] = 0;
      // Before: both sides send at once with no session, so each dials the other.
      for (let k = 0; k < BEFORE; k++) {
        send(round, 0);
        send(round, 1);
      }
      // During: keep sending from both sides while the handshakes and the duplicate resolution run.
      for (let k = 0; k < DURING; k++) {
        send(round, 0);
        send(round, 1);
        await (k % 3 === 0 ? sleep(1) : new Promise((r) => setImmediate(r)));
      }
      expect(await until(settled, 20_000)).toBe(true);
      // After: over the session that was kept.
      for (let k = 0; k < AFTER; k++) {
        send(round, 0);
        send(round, 1);
      }
      const arrived = () => got[1]!.size + got[0]!.size === sent[0]! + sent[1]!;
      await until(arrived, 20_000);
      expect(refused).toBe(0);
      for (const [i, m] of got.entries()) {
        const from = 1 - i;
        for (let s = 0; s < seq[from]!; s++) {
          const n = m.get(`${round}:${from}:${s}`) ?? 0;
          if (n !== 1) throw new Error(`round ${round}: message ${s} from ${from ? 'B' : 'A'} arrived ${n} times`);
        }
      }
      expect(settled()).toBe(true);
      expect(a.ntcp2.heldMessages + b.ntcp2.heldMessages).toBe(0);
      const sa = a.ntcp2.session(b.identHash)!,
        sb = b.ntcp2.session(a.identHash)!;
      expect(sa.direction).not.toBe(sb.direction); // two ends of one TCP connection
      const initiator = sa.direction === 'out' ? a : b;
      const other = initiator === a ? b : a;
      expect(Buffer.compare(Buffer.from(initiator.identHash), Buffer.from(other.identHash))).toBeLessThan(0);
      // Next round starts with no session at all.
      sa.terminate();
      expect(await until(() => a.ntcp2.stats.connections === 0 && b.ntcp2.stats.connections === 0, 20_000)).toBe(true);
    }
    // The rule really ran: in some rounds both dials completed their handshakes.
    const resolved = (x: Router) =>
      (x.ntcp2.stats.dropped['duplicate-session'] ?? 0) + (x.ntcp2.stats.dropped['replaced-session'] ?? 0);
    console.log(
      `[simultaneous dial] ${ROUNDS} rounds, ${sent[0]! + sent[1]!} messages, duplicates resolved: A ${resolved(a)}, B ${resolved(b)}`,
    );
    expect(resolved(a) + resolved(b)).toBeGreaterThan(0);
  });
});

// Tunnel expiry and rebuild against i2pd 2.45.1 over more than one tunnel lifetime (10 minutes, netdb-floodfill.md
// §7.5-§7.6: i2pd replaces its tunnels from 570 s, they expire at 600 s and a hop keeps them 660 s). Opt-in soak:
// runs only with TUNNELPLANE_I2PD_LONG=1 (about 14 minutes; TUNNELPLANE_I2PD_LONG_S sets the soak, default 780 s).
// `tunnelplane router --json` and one i2pd trusting only it, both with one-hop exploratory pools of 2 each way
// (as test/router-i2pd-tunnels.test.ts). Checked (soft: a run reports every check that failed):
//  - ours through i2pd: every tunnel that expires has its replacements built before it goes (the pool still holds
//    `quantity` other tunnels at its 'expired' event), the rebuilt ones pass tests, no test fails;
//  - i2pd's through us: the tunnels through us on its console at the end are all new ones (none of the first set),
//    its log shows tunnels created after the first lifetime, no failed test and no declined build;
//  - our transit tunnels end after their lifetime: everything accepted 700 s before the end has ended (`expired`), and
//    the live count goes down again after it rose.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import {
  consolePage,
  consoleText,
  i2pdGate,
  localRouter,
  readLog,
  spawnRouterCli,
  startI2pdOnOurs,
  stopRouter,
  waitFor,
  type RouterCli,
  type RouterEvent,
} from './helpers/i2pd.js';

const long = process.env.TUNNELPLANE_I2PD_LONG === '1';
if (!long) console.log('[router-i2pd-expiry] skipped: a 14-minute soak, set TUNNELPLANE_I2PD_LONG=1 to run it');
const runs = long && i2pdGate('[router-i2pd-expiry]');

const BASE = '/tmp/tunnelplane-test-router-expiry';
const OUR_PORT = 46490;
const PORTS = { i2cp: 26954, http: 26370, transport: 46400 };
const QUANTITY = 2;
const SOAK_MS = Number(process.env.TUNNELPLANE_I2PD_LONG_S ?? 780) * 1000;
/** A transit tunnel ends 660 s after it was accepted (§6.5), seen in a stats line at most 5 s and a tick later. */
const TRANSIT_END_MS = 700_000;

type Ev = RouterEvent;
interface Transit {
  participant: number;
  obep: number;
  ibgw: number;
  accepted: number;
  expired: number;
  rejected: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!runs)('tunnels expire and are rebuilt, ours through i2pd and i2pd’s through us', () => {
  const r = localRouter(BASE, 0, PORTS);
  let cli: RouterCli | undefined;
  afterAll(async () => {
    await stopRouter(r);
    cli?.kill('SIGKILL');
  }, 40_000);

  it(
    'over more than one lifetime',
    async () => {
      rmSync(BASE, { recursive: true, force: true });
      mkdirSync(BASE, { recursive: true });
      const data = `${BASE}/ours`;
      cli = spawnRouterCli([
        ...['--data', data, '--port', String(OUR_PORT), '--floodfill'],
        ...['--exploratory-length', '1', '--exploratory-quantity', String(QUANTITY)],
        // A bound of its own: the router stops even if this test is killed.
        ...['--duration', String(Math.ceil(SOAK_MS / 1000) + 600)],
      ]);
      const { events } = cli;

      const ready = await waitFor('ready', 20_000, () => events.find((e) => e.event === 'ready'));
      const ourIdent = ready.ident as string;
      const x4 = ourIdent.slice(0, 4);
      await startI2pdOnOurs(r, { peers: [`${data}/router.info`], trust: [ourIdent], quantity: QUANTITY });

      // i2pd's tunnels through us on its console: inbound `⇒ X4 ⇒ id:me`, outbound `id:me ⇒ X4 ⇒`, established.
      const esc = x4.replace(/[~=+-]/g, '.');
      const inRe = new RegExp(`⇒\\s*${esc}\\s*⇒\\s*(\\d+):me[^\\n]*established`);
      const outRe = new RegExp(`(\\d+):me\\s*⇒\\s*${esc}\\s*⇒[^\\n]*established`);
      const through = (page: string) => {
        const ids = (re: RegExp) =>
          new Set(
            page
              .split('\n')
              .map((l) => re.exec(l)?.[1])
              .filter((x): x is string => x !== undefined),
          );
        return { inbound: ids(inRe), outbound: ids(outRe) };
      };
      const tunnelsPage = async () => consoleText(await consolePage(r, 'page=tunnels').catch(() => ''));
      const first = await waitFor('established tunnels through us on the i2pd console', 150_000, async () => {
        const t = through(await tunnelsPage());
        return t.inbound.size > 0 && t.outbound.size > 0 ? t : undefined;
      });
      const createdRe = /I2NP: (Inbound|Outbound) tunnel (\d+) has been created/g;
      const created = (log: string) => [...log.matchAll(createdRe)].map((m) => `${m[1]}:${m[2]}`);
      const createdAtStart = new Set(created(readLog(r)));
      const start = Date.now();
      console.log(
        `[router-i2pd-expiry] i2pd's first tunnels through ${x4}: in ${[...first.inbound]} out ${[...first.outbound]}; soak ${SOAK_MS / 1000} s`,
      );

      // The soak: i2pd's console every 20 s (its tunnels through us never all gone), our stats lines as they come.
      const minThrough = { inbound: Infinity, outbound: Infinity };
      while (Date.now() - start < SOAK_MS) {
        await sleep(20_000);
        const t = through(await tunnelsPage());
        minThrough.inbound = Math.min(minThrough.inbound, t.inbound.size);
        minThrough.outbound = Math.min(minThrough.outbound, t.outbound.size);
        const s = events.filter((e) => e.event === 'stats').at(-1);
        console.log(
          `[router-i2pd-expiry] ${Math.round((Date.now() - start) / 1000)} s: i2pd through us in ${t.inbound.size} out ${t.outbound.size}; our transit ${JSON.stringify(s?.transit)} tunnels ${JSON.stringify(s?.tunnels)} dropped ${JSON.stringify(s?.dropped)}`,
        );
      }
      const end = Date.now();
      // The console can miss one request while i2pd is busy: the final page is read again, bounded, until it lists any.
      const lastPage = await waitFor('the final tunnels page', 30_000, async () => {
        const p = await tunnelsPage();
        return /established/.test(p) ? p : undefined;
      });
      const last = through(lastPage);
      const log = readLog(r);

      // --- i2pd's tunnels through us: all replaced, never all gone, tests passed, nothing declined.
      const newCreated = created(log).filter((c) => !createdAtStart.has(c));
      const failedTests = log.split('\n').filter((l) => /Test of tunnel \d+ failed|Tunnels: .* failed/.test(l));
      const expiredLines = log.split('\n').filter((l) => /expired/i.test(l) && /[Tt]unnel/.test(l));
      // i2pd's log times are local hh:mm:ss: the soak's start in the same form, to place each failure.
      console.log(
        `[router-i2pd-expiry] soak started ${new Date(start).toTimeString().slice(0, 8)}; failed test lines: ${failedTests.join(' | ')}`,
      );
      console.log(
        `[router-i2pd-expiry] i2pd: ${(log.match(/Test of \d+ successful/g) ?? []).length} successful tests, ${failedTests.length} failed lines, ${newCreated.length} tunnels created after the first (${newCreated.join(' ')}), ${expiredLines.length} expiry lines; at the end through us: in ${[...last.inbound]} out ${[...last.outbound]}; fewest seen: ${JSON.stringify(minThrough)}`,
      );
      expect.soft(failedTests).toEqual([]);
      expect.soft(log).not.toMatch(/has been declined/);
      expect.soft(newCreated.filter((c) => c.startsWith('Inbound')).length).toBeGreaterThanOrEqual(QUANTITY);
      expect.soft(newCreated.filter((c) => c.startsWith('Outbound')).length).toBeGreaterThanOrEqual(QUANTITY);
      for (const d of ['inbound', 'outbound'] as const) {
        expect.soft(last[d].size).toBeGreaterThan(0);
        expect.soft([...last[d]].filter((id) => first[d].has(id))).toEqual([]);
        expect.soft(minThrough[d]).toBeGreaterThan(0);
      }
      expect.soft(lastPage.split('\n').filter((l) => /:me/.test(l) && /failed/.test(l))).toEqual([]);

      // --- ours through i2pd: each expiry came after its replacements were built; the rebuilt tunnels are tested.
      const tunnelEvents = events.filter((e) => e.event === 'tunnel' && e.pool === 'exploratory');
      console.log(
        `[router-i2pd-expiry] our tunnel events: ${tunnelEvents
          .filter((e) => e.kind !== 'tested')
          .map((e) => `${Math.round((e.at - start) / 1000)}s ${e.direction}:${e.kind}:${String(e.id)}`)
          .join(' ')}`,
      );
      expect.soft(tunnelEvents.filter((e) => e.kind === 'failed' || e.kind === 'test-failed')).toEqual([]);
      for (const d of ['inbound', 'outbound'] as const) {
        const mine = tunnelEvents.filter((e) => e.direction === d);
        const expiries = mine.filter((e) => e.kind === 'expired');
        expect.soft(expiries.length).toBeGreaterThanOrEqual(QUANTITY);
        for (const x of expiries) {
          const before = mine.filter((e) => e.at <= x.at && e !== x);
          const live = new Set(before.filter((e) => e.kind === 'built').map((e) => e.id));
          for (const e of before) if (e.kind === 'expired' || e.kind === 'failed') live.delete(e.id);
          live.delete(x.id);
          expect
            .soft(live.size, `${d} tunnel ${String(x.id)} expired with ${live.size} others built`)
            .toBeGreaterThanOrEqual(QUANTITY);
        }
        const firstExpiry = expiries[0]!.at;
        expect.soft(mine.filter((e) => e.kind === 'tested' && e.at > firstExpiry).length).toBeGreaterThan(0);
      }

      // --- our transit tunnels end after their lifetime.
      const stats = events.filter((e) => e.event === 'stats' && e.transit !== undefined);
      const tr = (e: Ev) => e.transit as Transit;
      const cutoff = stats.filter((e) => e.at <= end - TRANSIT_END_MS).at(-1);
      const final = stats.at(-1)!;
      expect(cutoff).toBeDefined();
      const liveOf = (e: Ev) => tr(e).participant + tr(e).obep + tr(e).ibgw;
      const peak = stats.reduce((m, e) => Math.max(m, liveOf(e)), 0);
      const peakAt = stats.findIndex((e) => liveOf(e) === peak);
      console.log(
        `[router-i2pd-expiry] our transit: accepted ${tr(cutoff!).accepted} by ${Math.round((cutoff!.at - start) / 1000)} s, at the end accepted ${tr(final).accepted} expired ${tr(final).expired} live ${liveOf(final)} (peak ${peak}); rejected ${JSON.stringify(tr(final).rejected)}`,
      );
      expect.soft(tr(cutoff!).accepted).toBeGreaterThan(0);
      expect.soft(tr(final).expired).toBeGreaterThanOrEqual(tr(cutoff!).accepted);
      expect.soft(stats.slice(peakAt).some((e) => liveOf(e) < peak)).toBe(true);
      expect.soft(tr(final).rejected).toEqual({});

      expect(await cli.terminate(15_000)).toBe(0);
      expect(cli.stderr).toBe('');
    },
    SOAK_MS + 420_000,
  );
});

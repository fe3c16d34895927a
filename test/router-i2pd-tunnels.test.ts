// i2pd 2.45.1 builds its tunnels through our router (netdb-floodfill.md §6.5-§8): `tunnelplane router` (the CLI, a
// child with --json) runs as floodfill with transit on; i2pd gets our router.info (`i2pd-local --peer`), trusts only
// us and builds one-hop exploratory tunnels (§8.1). It dials us and sends VariableTunnelBuild (23, its bootstrap
// tunnels), ShortTunnelBuild (25) and garlic-wrapped builds (11); we accept, answer and carry its tunnel tests. Proof:
// i2pd's console lists established inbound and outbound tunnels whose hop is us (`⇒ X4 ⇒ id:me`, `id:me ⇒ X4 ⇒`),
// i2pd logs their creation and no declined build, and our stats show the matching transit OBEPs and IBGWs. Our own
// exploratory pool (one hop) builds through i2pd over the session it opened, and i2pd's transit page lists them.
// Skips without i2pd, except under CI.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import {
  consolePage,
  consoleText,
  i2pdGate,
  localRouter,
  logTail,
  readLog,
  spawnRouterCli,
  startI2pdOnOurs,
  stopRouter,
  waitFor,
  type RouterCli,
} from './helpers/i2pd.js';

const runs = i2pdGate('[router-i2pd-tunnels]');

const BASE = '/tmp/tunnelplane-test-router-tunnels';
const OUR_PORT = 43390;
const PORTS = { i2cp: 23854, http: 23270, transport: 43300 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!runs)('i2pd 2.45.1 builds its tunnels through our router', () => {
  const r = localRouter(BASE, 0, PORTS);
  let cli: RouterCli | undefined;
  afterAll(async () => {
    await stopRouter(r);
    cli?.kill('SIGKILL');
  }, 40_000);

  it('inbound and outbound tunnels with our router as hop are established and tested; our stats show them', async () => {
    rmSync(BASE, { recursive: true, force: true });
    mkdirSync(BASE, { recursive: true });
    const data = `${BASE}/ours`;
    cli = spawnRouterCli([
      ...['--data', data, '--port', String(OUR_PORT), '--floodfill'],
      ...['--exploratory-length', '1', '--exploratory-quantity', '2'],
    ]);
    const { events } = cli;

    const ready = await waitFor('ready', 20_000, () => events.find((e) => e.event === 'ready'));
    const ourIdent = ready.ident as string;
    const x4 = ourIdent.slice(0, 4);
    // §8.1: one-hop exploratory tunnels, trust only us (so every tunnel's hop next to i2pd is our router).
    await startI2pdOnOurs(r, { peers: [`${data}/router.info`], trust: [ourIdent], quantity: 2 });
    expect(readLog(r)).toMatch(/NetDb: 1 routers loaded \(1 floodfils\)/);

    // i2pd's tunnels page: established inbound `⇒ X4 ⇒ id:me` and outbound `id:me ⇒ X4 ⇒`, exploratory ones tested.
    const esc = x4.replace(/[~=+-]/g, '.');
    const inRe = new RegExp(`⇒\\s*${esc}\\s*⇒\\s*\\d+:me[^\\n]*established`);
    const outRe = new RegExp(`\\d+:me\\s*⇒\\s*${esc}\\s*⇒[^\\n]*established`);
    let page = '';
    try {
      page = await waitFor('established tunnels through us on the i2pd console', 150_000, async () => {
        const p = consoleText(await consolePage(r, 'page=tunnels').catch(() => ''));
        return inRe.test(p) && outRe.test(p) && /\(\s*\d+\s*ms\s*\)/.test(p) ? p : undefined;
      });
    } finally {
      const lines = logTail(r, /tunnel|Tunnel|Garlic|declined|Transit/, 60);
      console.log(`[router-i2pd-tunnels] i2pd log (tunnel lines, last 60):\n${lines}`);
      if (!page)
        console.log(
          `[router-i2pd-tunnels] tunnels page:\n${consoleText(await consolePage(r, 'page=tunnels').catch(() => ''))}`,
        );
      console.log(
        `[router-i2pd-tunnels] our last stats: ${JSON.stringify(events.filter((e) => e.event === 'stats').at(-1))}`,
      );
    }
    const log = readLog(r);
    expect(log).toMatch(/I2NP: Inbound tunnel \d+ has been created/);
    expect(log).toMatch(/I2NP: Outbound tunnel \d+ has been created/);
    expect(log).toMatch(/Tunnels: Test of \d+ successful/);
    expect(log).not.toMatch(/has been declined/);
    const inOnPage = page.split('\n').filter((l) => inRe.test(l)).length;
    const outOnPage = page.split('\n').filter((l) => outRe.test(l)).length;
    console.log(
      `[router-i2pd-tunnels] i2pd lists ${inOnPage} inbound and ${outOnPage} outbound tunnels through ${x4}:\n${page
        .split('\n')
        .filter((l) => inRe.test(l) || outRe.test(l))
        .join('\n')}`,
    );

    // Our side: the matching transit tunnels (i2pd's outbound tunnels end at our OBEP, its inbound ones start at our
    // IBGW), in the first stats line after the page was read.
    const seen = events.length;
    const stats = await waitFor('a stats line', 15_000, () => events.slice(seen).find((e) => e.event === 'stats'));
    const transit = stats.transit as {
      obep: number;
      ibgw: number;
      participant: number;
      accepted: number;
      rejected: Record<string, number>;
    };
    expect(transit.rejected).toEqual({});
    expect(transit.obep).toBeGreaterThanOrEqual(outOnPage);
    expect(transit.ibgw).toBeGreaterThanOrEqual(inOnPage);
    // What i2pd sent to get there: its bootstrap VariableTunnelBuild (23), ShortTunnelBuilds (25) and Noise-N garlic
    // (11) holding the builds of inbound tunnels sent through its zero-hop outbound tunnel (§7.1, §7.4).
    // Which of the two carries an inbound build depends on i2pd's timing: garlic over the session while its only
    // outbound tunnel is zero-hop, TunnelData (18) through an outbound tunnel of ours once it has one. Wait for both
    // build kinds and one of those carriers, bounded.
    const carried = (e: Record<string, unknown>): boolean => {
      const n = e.i2npIn as Record<string, number>;
      return (n['23'] ?? 0) > 0 && (n['25'] ?? 0) > 0 && ((n['11'] ?? 0) > 0 || (n['18'] ?? 0) > 0);
    };
    const withBuilds = await waitFor('stats showing i2pd build messages', 60_000, () =>
      events.find((e) => e.event === 'stats' && carried(e)),
    );
    const i2npIn = withBuilds.i2npIn as Record<string, number>;
    console.log(`[router-i2pd-tunnels] build messages in: ${JSON.stringify(i2npIn)}`);
    expect(i2npIn['23'] ?? 0).toBeGreaterThan(0);
    expect(i2npIn['25'] ?? 0).toBeGreaterThan(0);

    // Our creator: one-hop exploratory tunnels through i2pd over the session i2pd opened, tested, and on i2pd's
    // transit page.
    await waitFor('our own tunnels through i2pd built and tested both ways', 60_000, () =>
      (['inbound', 'outbound'] as const).every((d) =>
        events.some((e) => e.event === 'tunnel' && e.kind === 'tested' && e.direction === d),
      ),
    );
    const transitPage = consoleText(await consolePage(r, 'page=transit_tunnels'));
    expect(transitPage).not.toMatch(/no transit tunnels currently built/i);
    expect(transitPage).toMatch(/\d+\s*⇒|⇒\s*\d+/);

    // Soak (TUNNELPLANE_I2PD_SOAK_S, default 45 s): i2pd's tests keep passing, none of its tunnels fails.
    const soakMs = Number(process.env.TUNNELPLANE_I2PD_SOAK_S ?? 45) * 1000;
    await sleep(soakMs);
    const after = consoleText(await consolePage(r, 'page=tunnels'));
    const finalLog = readLog(r);
    const failedTests = finalLog.split('\n').filter((l) => /Test of tunnel \d+ failed|Tunnels: .* failed/.test(l));
    console.log(
      `[router-i2pd-tunnels] after ${soakMs / 1000} s: ${(finalLog.match(/Test of \d+ successful/g) ?? []).length} successful tests, ${failedTests.length} failed lines`,
    );
    if (failedTests.length > 0) {
      // What the two sides did around each failure: i2pd's transport and tunnel lines, our stats and session events.
      const lines = finalLog.split('\n');
      for (const f of failedTests) {
        const at = lines.indexOf(f);
        console.log(
          `[router-i2pd-tunnels] i2pd log before ${f.slice(0, 8)}:\n${lines
            .slice(Math.max(0, at - 400), at + 1)
            .filter((l) => /NTCP2: (?!Received|Sent|Next|Block|I2NP|Padding)|Tunnel|Transit|Test of|I2NP/.test(l))
            .slice(-80)
            .join('\n')}`,
        );
      }
      console.log(
        `[router-i2pd-tunnels] our stats lines:\n${events
          .filter((e) => e.event === 'stats' || e.event === 'session')
          .slice(-12)
          .map((e) => JSON.stringify(e))
          .join('\n')}`,
      );
    }
    // i2pd marks a tunnel failed after two missed tests in a row (TunnelPool::TestTunnels); one missed test is
    // "test failed" and recovers on the next success. The console shows both as "failed", so a tunnel through us that
    // still shows failed one test round (10-15 s) later has failed for real.
    let failedNow = after.split('\n').filter((l) => /:me/.test(l) && /failed/.test(l));
    if (failedNow.length > 0) {
      await sleep(16_000);
      const again = consoleText(await consolePage(r, 'page=tunnels'));
      failedNow = again.split('\n').filter((l) => /:me/.test(l) && /failed/.test(l));
    }
    expect(failedNow).toEqual([]);
    // A lone missed test is tolerated only when it was not our loss: nothing dropped on our side (the DatabaseLookups
    // a non-netDb router leaves unanswered aside) is checked below from the final stats.
    expect(failedTests.length).toBeLessThanOrEqual(1);
    expect(inRe.test(after) && outRe.test(after)).toBe(true);
    expect(events.some((e) => e.event === 'tunnel' && (e.kind === 'failed' || e.kind === 'test-failed'))).toBe(false);

    expect(await cli.terminate(15_000)).toBe(0);
    const stopped = events.find((e) => e.event === 'stopped');
    console.log(
      `[router-i2pd-tunnels] I2NP in ${JSON.stringify(stopped?.i2npIn)} out ${JSON.stringify(stopped?.i2npOut)}; transit ${JSON.stringify(stopped?.transit)}; tunnels ${JSON.stringify(stopped?.tunnels)}; dropped ${JSON.stringify(stopped?.dropped)}`,
    );
    console.log(
      `[router-i2pd-tunnels] our tunnel events: ${events
        .filter((e) => e.event === 'tunnel')
        .map((e) => `${e.direction}:${e.kind}${e.reason ? `:${e.reason}` : ''}`)
        .join(' ')}`,
    );
    const ourDrops = Object.fromEntries(
      Object.entries((stopped?.dropped ?? {}) as Record<string, number>).filter(([k]) => k !== 'unhandled'),
    );
    expect(ourDrops).toEqual({});
    expect((stopped?.transit as { dropped: Record<string, number> } | undefined)?.dropped).toEqual({});
    expect(cli.stderr).toBe('');
  }, 420_000);
});

// i2pd's own streaming over our routers (netdb-floodfill.md §6-§8, docs/network-i2pd.md): two i2pd 2.45.1 routers A
// and B know and trust only our routers (`i2pd-local --peer`, trust.routers) and build one-hop tunnels, so every hop of
// every tunnel is one of ours; i2pd refuses inbound connections from 127.0.0.0/8, so A and B can only reach each other
// through us. B runs a server tunnel (tunnels.conf) in front of an echo server on 127.0.0.1, with keys made by our
// keygen so its .b32.i2p address is known before it starts; A runs a client tunnel to that address. Bytes written into
// A's local port travel A's streaming + ECIES garlic → A's outbound tunnel (our OBEP) → B's inbound tunnel (our IBGW)
// → B → the echo server and back the same way; they must come back byte-identical. Proof that every hop was ours:
// i2pd's tunnels pages list only our routers' hashes as hops, and our transit counters grow with the echoed bytes.
// Two networks: one router of ours as floodfill and every hop (§8.1 minimal), then three with two floodfills.
// Skips without i2pd, except under CI.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createRouter, type Router } from '../src/router/router.js';
import { run as keygen } from '../src/cli/keygen.js';
import { b32Address, destinationHash, loadKeyFile } from '../src/keys/index.js';
import {
  consolePage,
  consoleText,
  i2pdGate,
  localRouter,
  logTail,
  readLog,
  startI2pdOnOurs,
  stopRouter,
  waitFor,
  type LocalRouter,
} from './helpers/i2pd.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const TAG = '[network-i2pd-streaming]';
const runs = i2pdGate(TAG);
const BASE = '/tmp/tunnelplane-test-network-i2pd-streaming';
// Private ports (no other test file uses these bases): i2pd k gets PORTS.* + k, our router i gets OUR_PORT + i, A's
// client tunnel listens on CLIENT_PORT + k.
const PORTS = { i2cp: 26854, http: 26270, transport: 46300 };
const OUR_PORT = 46390;
const CLIENT_PORT = 46380;
// Echo sizes; TUNNELPLANE_STREAMING_BYTES=N adds one echo of N bytes (a throughput figure, docs/network-i2pd.md).
const EXTRA = Number(process.env.TUNNELPLANE_STREAMING_BYTES ?? 0);
const SIZES = [1, 1_000, 16_384, 100_000, ...(EXTRA > 0 ? [Math.min(EXTRA, 64 * 1024 * 1024)] : [])];

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Echo {
  ok: boolean;
  got: Buffer;
  ms: number;
  firstByteMs: number;
  why: string;
}

/** Sends `data` into the local port and reads until as many bytes came back, the peer closed, or `timeoutMs`. */
function echoOnce(port: number, data: Uint8Array, timeoutMs: number): Promise<Echo> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let first = -1;
    const parts: Buffer[] = [];
    let n = 0;
    let done = false;
    const s: Socket = connect({ host: '127.0.0.1', port });
    const finish = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const got = Buffer.concat(parts);
      resolve({ ok: why === '', got, ms: performance.now() - t0, firstByteMs: first, why });
    };
    const timer = setTimeout(() => finish(`timeout after ${timeoutMs} ms with ${n}/${data.length} bytes`), timeoutMs);
    s.on('connect', () => s.write(data));
    s.on('data', (c: Buffer) => {
      if (first < 0) first = performance.now() - t0;
      parts.push(c);
      n += c.length;
      if (n >= data.length) finish(n === data.length ? '' : `too many bytes: ${n}/${data.length}`);
    });
    s.on('error', (e) => finish(`socket error: ${e.message}`));
    s.on('close', () => finish(`closed after ${n}/${data.length} bytes`));
  });
}

/** Small pings on one open connection: round-trip ms each. */
function pings(port: number, count: number, size: number, timeoutMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const rtts: number[] = [];
    const s = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`pings: timeout after ${rtts.length}/${count}`));
    }, timeoutMs);
    let pending = 0;
    let t0 = 0;
    const next = () => {
      if (rtts.length === count) {
        clearTimeout(timer);
        s.destroy();
        resolve(rtts);
        return;
      }
      pending = size;
      t0 = performance.now();
      s.write(Buffer.alloc(size, rtts.length & 0xff));
    };
    s.on('connect', next);
    s.on('data', (c: Buffer) => {
      pending -= c.length;
      if (pending <= 0) {
        rtts.push(performance.now() - t0);
        next();
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Every hop hash prefix on an i2pd tunnels page (`⇒ X4 ⇒`), with the rows they come from. */
function hopPrefixes(page: string): { hops: string[]; rows: string[] } {
  const rows = page
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('⇒'));
  const hops: string[] = [];
  for (const row of rows)
    for (const part of row.split('⇒').map((p) => p.trim())) {
      // a hop is the 4-character base64 prefix of a router hash; the ends are `<tunnel id>:me` or a bare tunnel id
      const m = /^([A-Za-z0-9~-]{4})(\s|$)/.exec(part);
      if (m && !/^\d+:me/.test(part)) hops.push(m[1]!);
    }
  return { hops, rows };
}

/**
 * A console page as text, with a few bounded retries: i2pd 2.45.1 has been seen hanging up on destination pages
 * (docs/network.md).
 */
async function page(r: LocalRouter, query: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return consoleText(await consolePage(r, query));
    } catch (err) {
      if (i >= 3) throw err;
      await sleep(200);
    }
  }
}

const count = (r: LocalRouter, re: RegExp): number => readLog(r).match(re)?.length ?? 0;

function remove<T>(list: T[], x: T): void {
  const i = list.indexOf(x);
  if (i >= 0) list.splice(i, 1);
}

/** An i2pd router's ident (I2P base64): SHA-256 of the RouterIdentity at the head of its router.info. */
function i2pdIdent(r: LocalRouter): string {
  const ri = readFileSync(`${r.dir}/r0/router.info`);
  const identityLength = 387 + ri.readUInt16BE(385);
  const h = createHash('sha256').update(ri.subarray(0, identityLength)).digest();
  return h.toString('base64').replace(/\+/g, '-').replace(/\//g, '~');
}

interface Net {
  label: string;
  index: number;
  routers: number;
  floodfills: number;
}

describe.skipIf(!runs)("i2pd's streaming between two i2pd routers, every hop ours", () => {
  const started: LocalRouter[] = [];
  const ours: Router[] = [];
  const servers: Server[] = [];
  afterAll(async () => {
    for (const r of started.splice(0)) await stopRouter(r);
    await Promise.all(ours.splice(0).map((r) => r.stop(500)));
    for (const s of servers.splice(0)) s.close();
  }, 60_000);

  async function streaming(net: Net): Promise<void> {
    const dir = `${BASE}/${net.label}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const seed = testSeed(`network-i2pd-streaming ${net.label}`);
    const rnd = seededRandom(seed);

    // Our routers: the first `floodfills` are floodfills; every other router is seeded with router 0's RouterInfo and
    // finds the rest through the netDb. Transit on, no exploratory pools of our own: every tunnel here is i2pd's.
    const mine: Router[] = [];
    for (let i = 0; i < net.routers; i++) {
      const r = createRouter({
        dataDir: `${dir}/ours${i}`,
        port: OUR_PORT + net.index * 4 + i,
        floodfill: i < net.floodfills,
        dataPlane: { threads: 'inline' },
        tunnels: { exploratory: false },
        netDb: {
          tickMs: 200,
          publishRetryMs: 1000,
          exploreFastMs: 700,
          lookupStepMs: 1500,
          // i2pd routers accept no connection from us: never hand them out as hops to explore.
          exploreExclude: (h) => !mine.some((m) => hex(m.identHash) === hex(h)),
        },
      });
      ours.push(r);
      mine.push(r);
      await r.start();
      if (i > 0) r.addPeer(mine[0]!.routerInfo);
    }
    const knowsAll = () => mine.every((r) => mine.every((x) => x === r || r.netDb.routerInfo(x.identHash)));
    await waitFor('our routers knowing each other through the netDb', 40_000, knowsAll);
    const idents = mine.map((r) => r.ready!.ident);
    const prefixes = new Set(idents.map((i) => i.slice(0, 4)));
    console.log(`${TAG} ${net.label}: our routers ${idents.join(' ')}`);

    // The echo server B's server tunnel forwards to.
    const echo = createServer((s) => s.pipe(s));
    servers.push(echo);
    await new Promise<void>((res) => echo.listen(0, '127.0.0.1', res));
    const echoPort = (echo.address() as { port: number }).port;

    // B's server keys, made by our keygen: the address is known before B starts.
    const keysFile = `${dir}/srv.dat`;
    expect(await keygen([keysFile])).toBe(0);
    const srvKeys = loadKeyFile(keysFile);
    if (!srvKeys.ok) throw new Error(srvKeys.error);
    const b32 = b32Address(srvKeys.value.destination);
    const srvHash = destinationHash(srvKeys.value.destination);
    // A's client destination too (instead of a transient one), so its console page can be asked for by address.
    const cliFile = `${dir}/cli.dat`;
    expect(await keygen([cliFile])).toBe(0);
    const cliKeys = loadKeyFile(cliFile);
    if (!cliKeys.ok) throw new Error(cliKeys.error);
    const cliB32 = b32Address(cliKeys.value.destination);

    // One-hop tunnels everywhere (trust makes the hop next to i2pd one of ours, and one hop is all there is), so no
    // tunnel needs a hop i2pd cannot reach.
    //
    // The LeaseSet timing trap (netdb-floodfill.md §6.3): i2pd publishes a destination's LeaseSet only from the
    // moment an inbound tunnel is added, and only if the pool then also has an outbound tunnel; a skipped publish
    // waits for the next inbound tunnel (~10 min later). A pool builds at most 2 tunnels of each direction per pass
    // (every 10-15 s), outbound first, and an outbound build needs an inbound tunnel for its reply: at B's start the
    // first pass builds only inbound tunnels (→ "Destination is not ready"), the second outbound and inbound together
    // (a race). With inbound.quantity 6 a third pass adds inbound tunnels after the second pass's outbound ones exist,
    // and each of those triggers the publish that now succeeds.
    const lengths = ['inbound.length = 1', 'outbound.length = 1', 'outbound.quantity = 2'];
    const bConf = `${dir}/b-tunnels.conf`;
    writeFileSync(
      bConf,
      [
        '[echo-server]',
        'type = server',
        'host = 127.0.0.1',
        `port = ${echoPort}`,
        'keys = srv.dat',
        'inbound.quantity = 6',
        ...lengths,
        '',
      ].join('\n'),
    );
    const clientPort = CLIENT_PORT + net.index;
    const aConf = `${dir}/a-tunnels.conf`;
    writeFileSync(
      aConf,
      [
        '[echo-client]',
        'type = client',
        'address = 127.0.0.1',
        `port = ${clientPort}`,
        `destination = ${b32}`,
        'keys = cli.dat',
        'inbound.quantity = 2',
        ...lengths,
        '',
      ].join('\n'),
    );

    const a = localRouter(`${dir}/i2pd`, net.index * 2, PORTS);
    const b = localRouter(`${dir}/i2pd`, net.index * 2 + 1, PORTS);
    const onOurs = { peers: mine.map((r) => `${r.dataDir}/router.info`), trust: idents, quantity: 2 };
    const diagnostics = async () => {
      for (const [name, r] of [
        ['A', a],
        ['B', b],
      ] as const) {
        const lines = logTail(r, /Destination|LeaseSet|I2PTunnel|Streaming|Garlic|declined|failed|NetDb: Publish/, 40);
        console.log(`${TAG} ${net.label}: i2pd ${name} log (last 40 relevant lines):\n${lines}`);
        console.log(
          `${TAG} ${net.label}: i2pd ${name} tunnels page:\n${await page(r, 'page=tunnels').catch(() => '')}`,
        );
      }
      for (const [i, r] of mine.entries()) {
        const s = r.stats();
        console.log(
          `${TAG} ${net.label}: ours ${i} transit ${JSON.stringify(s.transit)} tunnelData in/out ${s.tunnelDataIn}/${s.tunnelDataOut} netdb ${JSON.stringify(s.netdb)} dropped ${JSON.stringify(s.dropped)}`,
        );
      }
    };

    try {
      started.push(a, b);
      await startI2pdOnOurs(a, { ...onOurs, extra: ['--tunconf', `0=${aConf}`, '--datafile', `0=${cliFile}`] });
      await startI2pdOnOurs(b, { ...onOurs, extra: ['--tunconf', `0=${bConf}`, '--datafile', `0=${keysFile}`] });
      // B's LeaseSet at our floodfills (published through B's tunnels, i.e. through us).
      const t0 = Date.now();
      await waitFor("B's LeaseSet stored at one of our floodfills", 120_000, () =>
        mine.slice(0, net.floodfills).some((r) => r.netDb.leaseSet(srvHash) !== undefined),
      );
      console.log(`${TAG} ${net.label}: B's LeaseSet at our floodfill after ${Date.now() - t0} ms`);

      // A's client destination takes a stream only once it has a LeaseSet (an inbound tunnel) and an outbound tunnel
      // (else "Client Tunnel Issue when creating the stream"): wait for both on its console page.
      await waitFor(
        "A's echo client destination having inbound and outbound tunnels",
        90_000,
        async () => {
          const rows = hopPrefixes(
            await page(a, `page=local_destination&b32=${cliB32.replace(/\.b32\.i2p$/, '')}`),
          ).rows;
          const up = rows.filter((r) => r.includes('established'));
          return up.some((r) => r.startsWith('⇒')) && up.some((r) => /^\d+:me ⇒/.test(r));
        },
        1000,
      );
      // The first connection also makes A look B's LeaseSet up (through A's tunnels, at our floodfill); should that
      // fail it is retried, within a bounded time.
      const hello = rnd(32);
      let first: Echo | undefined;
      const firstBy = Date.now() + 90_000;
      for (let i = 1; ; i++) {
        first = await echoOnce(clientPort, hello, 40_000);
        if (first.ok || Date.now() > firstBy) break;
        console.log(`${TAG} ${net.label}: first echo attempt ${i}: ${first.why}`);
        await sleep(5000);
      }
      expect(first?.ok, first?.why).toBe(true);
      expect(Buffer.compare(first!.got, Buffer.from(hello))).toBe(0);

      const before = mine.map((r) => r.stats());
      let total = 0;
      for (const size of SIZES) {
        const data = rnd(size);
        const e = await echoOnce(clientPort, data, 90_000 + size / 20);
        expect(e.ok, `${size} bytes: ${e.why}`).toBe(true);
        expect(e.got.equals(Buffer.from(data)), `${size} bytes came back different`).toBe(true);
        total += size;
        console.log(
          `${TAG} ${net.label}: echo ${size} B in ${e.ms.toFixed(0)} ms (first byte ${e.firstByteMs.toFixed(0)} ms, ${(size / 1024 / (e.ms / 1000)).toFixed(1)} KB/s echoed, each byte crossing twice)`,
        );
      }
      const rtts = await pings(clientPort, 10, 64, 60_000);
      rtts.sort((x, y) => x - y);
      console.log(
        `${TAG} ${net.label}: 64-byte round trips (ms): p50 ${rtts[5]!.toFixed(1)} min ${rtts[0]!.toFixed(1)} max ${rtts[9]!.toFixed(1)}`,
      );
      const after = mine.map((r) => r.stats());

      // Our side: the echoed bytes crossed our data plane both ways (A→B and B→A, each through one of our OBEPs and
      // one of our IBGWs); a 1 KB tunnel message carries under 1 KB, so at least 2·total/1024 messages in.
      const delta = (k: 'tunnelDataIn' | 'tunnelDataOut') => after.reduce((n, s, i) => n + s[k] - before[i]![k], 0);
      const tdIn = delta('tunnelDataIn');
      const transit = (s: ReturnType<Router['stats']>) =>
        s.transit as { ibgwMessages: number; obepDelivered: number; accepted: number };
      const ibgw = after.reduce((n, s, i) => n + transit(s).ibgwMessages - transit(before[i]!).ibgwMessages, 0);
      const obep = after.reduce((n, s, i) => n + transit(s).obepDelivered - transit(before[i]!).obepDelivered, 0);
      console.log(
        `${TAG} ${net.label}: during the echoes our routers took ${tdIn} tunnel messages in, ${ibgw} IBGW messages, ${obep} OBEP deliveries`,
      );
      expect(tdIn).toBeGreaterThanOrEqual(Math.floor((2 * total) / 1024));
      expect(ibgw).toBeGreaterThan(0);
      expect(obep).toBeGreaterThan(0);
      // Nothing lost in our data planes (drops there are per message and counted by reason).
      for (const [i, st] of after.entries())
        expect(
          Object.keys(st.dropped).filter((k) => k.startsWith('dataplane.')),
          `ours ${i} data plane drops`,
        ).toEqual([]);

      // i2pd's side: every hop of the echo destinations' tunnels is one of ours; on the whole tunnels page (exploratory
      // pool, and the shared local destination whose 3-hop tunnels i2pd also routes through itself, §6.6) every hop
      // is ours or the i2pd router itself. A holds B's LeaseSet (looked up at our floodfill through its tunnels).
      for (const [name, r, dest] of [
        ['A', a, cliB32],
        ['B', b, b32],
      ] as const) {
        const self = i2pdIdent(r).slice(0, 4);
        const destPage = await page(r, `page=local_destination&b32=${dest.replace(/\.b32\.i2p$/, '')}`);
        const d = hopPrefixes(destPage);
        expect(
          d.hops.length,
          `i2pd ${name}: no tunnel hops on its echo destination's page:\n${destPage}`,
        ).toBeGreaterThan(0);
        expect(
          d.hops.filter((h) => !prefixes.has(h)),
          `i2pd ${name}: echo destination tunnel hops not ours:\n${d.rows.join('\n')}`,
        ).toEqual([]);
        const all = hopPrefixes(await page(r, 'page=tunnels'));
        expect(
          all.hops.filter((h) => !prefixes.has(h) && h !== self),
          `i2pd ${name}: tunnel hops neither ours nor itself:\n${all.rows.join('\n')}`,
        ).toEqual([]);
        console.log(`${TAG} ${net.label}: i2pd ${name} echo destination tunnels:\n${d.rows.join('\n')}`);
        if (name === 'A') expect(destPage).toMatch(/LeaseSets:\s*[1-9]/);
      }
      // B's server tunnel connected to the echo server once per stream.
      const connected = readLog(b).match(/I2PTunnel: Connected/g)?.length ?? 0;
      expect(connected).toBeGreaterThanOrEqual(SIZES.length + 2);
    } catch (err) {
      await diagnostics();
      throw err;
    } finally {
      for (const [i, r] of mine.entries()) {
        const st = r.stats();
        console.log(
          `${TAG} ${net.label}: ours ${i} transit ${JSON.stringify(st.transit)} dropped ${JSON.stringify(st.dropped)} netdb.dropped ${JSON.stringify(st.netdb?.dropped)}`,
        );
      }
      for (const [name, r] of [
        ['A', a],
        ['B', b],
      ] as const)
        console.log(
          `${TAG} ${net.label}: i2pd ${name} streaming: ${count(r, /Streaming: Missing messages/g)} gaps seen (loss or reordering), ${count(r, /Streaming: Duplicate message/g)} duplicates (its resends: RTO = 1.5 x RTT, no floor)`,
        );
      // This network is done: its i2pd routers and ours stop now (afterAll only catches what a failure left).
      for (const r of [a, b]) {
        await stopRouter(r);
        remove(started, r);
      }
      await Promise.all(mine.map((r) => r.stop(500)));
      for (const r of mine) remove(ours, r);
      echo.close();
      remove(servers, echo);
    }
  }

  it('one router of ours: floodfill and every hop', async () => {
    await streaming({ label: 'one', index: 0, routers: 1, floodfills: 1 });
  }, 240_000);

  it('three routers of ours, two of them floodfills', async () => {
    await streaming({ label: 'three', index: 1, routers: 3, floodfills: 2 });
  }, 240_000);
});

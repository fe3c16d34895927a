// Balancer latency benchmark: time from a router's RequestVariableLeaseSet reaching the balancer to the signed,
// merged LeaseSet2 having been written to every router's connection, with 4 routers offering 4 leases each
// (16 leases in every LeaseSet2). Self-contained: in-memory connections, no sockets, so the figure is the
// balancer's own work (decode, merge, build, Ed25519 sign, encode, 4 writes); loopback TCP adds tens of µs.
//
//   npm run build:ts && node dist/bench/balancer.js [--rounds N] [--json]
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Balancer } from '../src/balancer/balancer.js';
import { FrameDecoder } from '../src/i2cp/framing.js';
import { decodeMessage, encodeMessage, PROTOCOL_BYTE, MessageType } from '../src/i2cp/messages.js';
import type { Connection, Connector } from '../src/i2cp/transport.js';
import { generatePrivateKeys } from '../src/keys/destination.js';
import { parseLeaseSet2, verifyLeaseSet2 } from '../src/leaseset/leaseset2.js';

const ROUTERS = 4;
const LEASES_PER_ROUTER = 4;

interface BenchRouter {
  port: number;
  deliver: ((d: Uint8Array) => void) | undefined;
  sessionId: number;
  lastLeaseSet: Uint8Array | undefined;
  lastWriteAt: number;
  writes: number;
}

function makeRouter(port: number): BenchRouter {
  return { port, deliver: undefined, sessionId: 0, lastLeaseSet: undefined, lastWriteAt: 0, writes: 0 };
}

/** Client-side connection to a bench router: the router answers the handshake and records CreateLeaseSet2 writes. */
function connectorFor(routers: BenchRouter[]): Connector {
  return async (_host, port) => {
    const r = routers.find((x) => x.port === port)!;
    const dec = new FrameDecoder();
    let first = true;
    const reply = (b: Uint8Array) => queueMicrotask(() => r.deliver?.(b));
    const conn: Connection = {
      write(data) {
        let d = data;
        if (first) {
          first = false;
          if (d[0] === PROTOCOL_BYTE) d = d.subarray(1);
        }
        // cheap path for the measured message: note the time, keep the bytes, skip full decoding
        if (d.length > 5 && d[4] === MessageType.CreateLeaseSet2) {
          r.lastWriteAt = performance.now();
          r.lastLeaseSet = d;
          r.writes++;
          return;
        }
        for (const f of dec.push(d)) {
          const m = decodeMessage(f.type, f.body);
          if (!m.ok) throw new Error(m.error);
          if (m.value.type === 'GetDate')
            reply(encodeMessage({ type: 'SetDate', date: Date.now(), version: m.value.version }));
          if (m.value.type === 'CreateSession') {
            r.sessionId = 1000 + r.port;
            reply(encodeMessage({ type: 'SessionStatus', sessionId: r.sessionId, status: 1 }));
          }
          if (m.value.type === 'DestroySession')
            reply(encodeMessage({ type: 'SessionStatus', sessionId: r.sessionId, status: 0 }));
        }
      },
      close() {},
      onData(cb) {
        r.deliver = cb;
      },
      onClose() {},
    };
    return conn;
  };
}

function request(r: BenchRouter, round: number): Uint8Array {
  const end = Date.now() + 600_000;
  const gateway = new Uint8Array(32).fill(r.port & 0xff);
  const leases = Array.from({ length: LEASES_PER_ROUTER }, (_, i) => ({ gateway, tunnelId: round * 16 + i + 1, end }));
  return encodeMessage({ type: 'RequestVariableLeaseSet', sessionId: r.sessionId, leases });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2000' }, json: { type: 'boolean' } } });
  const rounds = Number(values.rounds);
  const routers = Array.from({ length: ROUTERS }, (_, i) => makeRouter(7654 + i));
  const keys = generatePrivateKeys();
  const balancer = new Balancer({
    routers: routers.map((r) => ({ host: '127.0.0.1', port: r.port })),
    keys,
    connector: connectorFor(routers),
  });
  await balancer.start();
  await new Promise((r) => setTimeout(r, 50));
  // every router asks once so all four get every LeaseSet2
  for (const r of routers) r.deliver!(request(r, 0));

  // validate before timing: the LeaseSet2 that left for each router carries 16 leases and verifies
  for (const r of routers) {
    const f = r.lastLeaseSet!;
    const m = decodeMessage(f[4]!, f.subarray(5));
    if (!m.ok || m.value.type !== 'CreateLeaseSet2') throw new Error('router did not receive a CreateLeaseSet2');
    const ls = parseLeaseSet2(m.value.leaseSet);
    if (!ls.ok || !verifyLeaseSet2(ls.value) || ls.value.leases.length !== 16)
      throw new Error('invalid LeaseSet2 in the benchmark setup');
  }

  const samples: number[] = [];
  const cpuSamples: number[] = [];
  let cpu0 = process.cpuUsage();
  const warmup = Math.min(200, Math.floor(rounds / 5));
  for (let i = 0; i < warmup + rounds; i++) {
    const r = routers[i % ROUTERS]!;
    const frame = request(r, i + 1);
    const before = routers.map((x) => x.writes);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    r.deliver!(frame); // the balancer answers synchronously from its data handler
    const c1 = process.cpuUsage(c0);
    const sent = routers.every((x, k) => x.writes === before[k]! + 1);
    if (!sent) throw new Error('a router did not get the LeaseSet2');
    const t1 = Math.max(...routers.map((x) => x.lastWriteAt));
    if (i >= warmup) {
      samples.push(t1 - t0);
      cpuSamples.push((c1.user + c1.system) / 1000);
    }
    if (i === warmup - 1) cpu0 = process.cpuUsage();
  }
  const cpu = process.cpuUsage(cpu0);
  await balancer.stop();
  samples.sort((a, b) => a - b);
  cpuSamples.sort((a, b) => a - b);
  const result = {
    bench: 'balancer: RequestVariableLeaseSet -> signed LeaseSet2 written to every router',
    routers: ROUTERS,
    leases: ROUTERS * LEASES_PER_ROUTER,
    rounds,
    medianMs: quantile(samples, 0.5),
    p99Ms: quantile(samples, 0.99),
    worstMs: samples.at(-1)!,
    /** Mean CPU time (user + system) per request: unaffected by other processes preempting this one. */
    cpuMeanMs: (cpu.user + cpu.system) / 1000 / rounds,
    /** CPU time of the measured span alone (excludes time the process was descheduled by a loaded machine). */
    cpuMedianMs: quantile(cpuSamples, 0.5),
    cpuWorstMs: cpuSamples.at(-1)!,
    loadAverage: loadavg()[0]!,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    date: new Date().toISOString(),
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
  } else {
    const f = (x: number) => `${x.toFixed(3)} ms`;
    process.stdout.write(
      `${result.bench}\n${ROUTERS} routers × ${LEASES_PER_ROUTER} leases = ${result.leases} leases per LeaseSet2, ${rounds} requests\n` +
        `wall time: median ${f(result.medianMs)}   p99 ${f(result.p99Ms)}   worst ${f(result.worstMs)}   (deadline: 10 000 ms)\n` +
        `CPU time:  median ${f(result.cpuMedianMs)}   worst ${f(result.cpuWorstMs)}   mean per request incl. the fake routers ${f(result.cpuMeanMs)}\n` +
        `${result.node} · ${result.cpu} · load average ${result.loadAverage.toFixed(2)} · ${result.date}\n`,
    );
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench/balancer: ${err.message}\n`);
  process.exitCode = 1;
});

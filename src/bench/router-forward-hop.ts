// Router B of the router-forward path (router-forward.ts), run as its own process so that its CPU time is its own:
// our router with a forwarding-only configuration (no tunnel side, whose pools would build through A and C) and one
// AES participant tunnel to C (tunnel-crypto-aes.md §2). Argument: the HopConfig as JSON. Protocol, one JSON object
// a line on stdout: {routerInfo} when listening; on stdin `mark` -> {marked}, `cpu` -> {cpuMs, wallMs, forwarded}
// since the mark, `stop` -> the same with B's stats, then B stops and exits.
import { createRouter } from '../router/router.js';
import { coreFrameAead, defaultFrameAead, nodeFrameAead, type FrameAead } from '../transport/ntcp2/frames.js';
import { FORWARD_NEXT_ID, FORWARD_RECEIVE_ID, type HopConfig } from './router-forward.js';

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as HopConfig;
  const aeads: Record<string, () => FrameAead> = {
    hybrid: () => defaultFrameAead(),
    core: () => coreFrameAead(),
    node: () => nodeFrameAead,
  };
  const frameAead = aeads[cfg.aead]?.();
  if (!frameAead) throw new Error(`aead must be hybrid, core or node, not ${cfg.aead}`);
  const b = createRouter({ dataDir: cfg.dir, port: 0, dataPlane: { threads: cfg.threads }, frameAead, tunnels: false });
  const ready = await b.start();
  const c = b.addPeerFile(cfg.peer);
  b.dataPlane.join({
    role: 'participant',
    layer: 'aes',
    receiveTunnelId: FORWARD_RECEIVE_ID,
    nextTunnelId: FORWARD_NEXT_ID,
    nextHop: c.id,
    layerKey: Buffer.from(cfg.layerKey, 'hex'),
    ivKey: Buffer.from(cfg.ivKey, 'hex'),
  });
  const forwardedSoFar = () => b.stats().i2npIn['18'] ?? 0;
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  let in0 = 0;
  let markUs = 0;
  const nowUs = () => Number(process.hrtime.bigint() / 1000n); // the clock of V8's profile timestamps
  const since = () => {
    const cpu = process.cpuUsage(cpu0);
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: performance.now() - t0,
      forwarded: forwardedSoFar() - in0,
      markUs,
      stopUs: nowUs(),
    };
  };
  const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line === 'mark') {
        cpu0 = process.cpuUsage();
        t0 = performance.now();
        in0 = forwardedSoFar();
        markUs = nowUs();
        say({ marked: true });
      } else if (line === 'cpu') {
        say({ cpu: true, ...since() });
      } else if (line === 'stop') {
        const plane = b.dataPlane.stats();
        say({
          ...since(),
          stats: b.stats(),
          workers: plane.workers.map((w) => ({ busyMs: w.busyMs, batches: w.batches, messages: w.messages })),
        });
        b.stop(1000).then(
          () => process.exit(0),
          (e: unknown) => {
            console.error(e);
            process.exit(1);
          },
        );
      }
    }
  });
  // The parent went away: do not linger.
  process.stdin.on('end', () => void b.stop(500).then(() => process.exit(0)));
  say({ routerInfo: ready.routerInfo });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

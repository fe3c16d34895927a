// `tunnelplane network`: a private I2P network on this machine (netdb-floodfill.md §8, docs/network.md): our routers
// (and, with --i2pd, i2pd routers that know only ours), their tunnels, a live view, byte-checked traffic, a summary.
import { parse, intOption, UsageError } from './args.js';
import { runNetwork } from '../network/run.js';
import { renderTable } from '../network/view.js';
import { DELIVERY_THRESHOLD } from '../network/traffic.js';
import { I2pdUnavailableError, type NetworkEvent, type NetworkSummary } from '../network/types.js';

export const usage = `usage: tunnelplane network [--routers N] [--i2pd K] [--messages M] [--duration S] [--hops H]
                          [--kill I] [--streaming] [--seed N] [--interval S] [--json]

Starts N tunnelplane routers on 127.0.0.1 in this process (each with its own data directory under a temporary
directory, the first of every three floodfill), lets them build tunnels through each other, shows a live view per
router (sessions, transit tunnels, messages and bytes per second, drops by reason), then sends M messages of random
sizes (1 B to 30 KB) from one router's outbound tunnel to another router's inbound tunnel and checks every byte that
arrives. Exits 0 when at least ${DELIVERY_THRESHOLD * 100} % arrived and none was corrupted. Everything started is stopped and every
temporary directory removed on exit, Ctrl-C included.
  --routers N    our routers, 2..32 (default 3)
  --i2pd K       also K i2pd routers (K >= 2) that know only ours; traffic goes between I2CP sessions on two of them
                 ('auto': 2 when i2pd can run here, else our routers alone)
  --messages M   messages to send (default 1000)
  --duration S   spread the messages over S seconds (default: as fast as 32 in flight allow)
  --hops H       hops of the traffic tunnels (default min(2, N-1)); every hop is one of our routers
  --streaming    with --i2pd: also 64 KiB through i2pd's own streaming (client tunnel on A, echo server behind B)
  --kill I       stop router I (not 0) a third of the way through, to watch the pools rebuild around it
  --seed N       payload seed (default random; printed in the summary)
  --interval S   live view period (default 1)
  --json         one JSON object per line: ready, tunnels, stats (every interval), kill, warning, summary`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    routers: { type: 'string' },
    i2pd: { type: 'string' },
    messages: { type: 'string' },
    duration: { type: 'string' },
    hops: { type: 'string' },
    kill: { type: 'string' },
    streaming: { type: 'boolean' },
    seed: { type: 'string' },
    interval: { type: 'string' },
    json: { type: 'boolean' },
  });
  const routers = intOption('routers', values.routers, 3, 2, 32);
  let i2pd: number;
  let i2pdNote: string | undefined;
  if (values.i2pd === 'auto') {
    // npm start: with i2pd where it can run, our routers alone where it cannot (and why).
    const { i2pdSupport } = await import('../network/i2pd.js');
    const sup = i2pdSupport();
    i2pd = sup.ok ? 2 : 0;
    if (!sup.ok) i2pdNote = `i2pd not used: ${sup.why}; running our routers alone`;
  } else i2pd = intOption('i2pd', values.i2pd, 0, 0, 16);
  if (i2pd === 1) throw new UsageError('--i2pd needs at least 2 routers (traffic goes from one to another)');
  const messages = intOption('messages', values.messages, 1000, 1, 1_000_000);
  const hops = values.hops === undefined ? undefined : intOption('hops', values.hops, 0, 0, Math.min(8, routers - 1));
  const seed = values.seed === undefined ? undefined : intOption('seed', values.seed, 0, 0, 0xffffffff);
  const interval = intOption('interval', values.interval, 1, 1, 3600);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(values.duration) || Number(values.duration) <= 0)
      throw new UsageError(`--duration takes a positive number of seconds, not '${values.duration}'`);
    durationMs = Number(values.duration) * 1000;
  }
  let kill: { index: number; atMessage: number } | undefined;
  if (values.kill !== undefined) {
    const index = intOption('kill', values.kill, 1, 1, routers - 1);
    if (hops !== undefined ? hops > routers - 2 : Math.min(2, routers - 1) > routers - 2)
      throw new UsageError(`--kill needs routers >= hops + 2, so tunnels can be rebuilt without the stopped one`);
    kill = { index, atMessage: Math.floor(messages / 3) };
  }
  const json = values.json === true;
  const tty = !json && process.stdout.isTTY === true;
  const abort = new AbortController();
  // A closed stdout (piped into head) must end the run through the clean-up, not crash past it.
  process.stdout.on('error', () => abort.abort());
  let interrupted = false;
  // Kept installed until the end: a second Ctrl-C must not kill the process before i2pd and the directories are gone.
  const onSignal = () => {
    if (interrupted) process.stderr.write('tunnelplane network: stopping, please wait\n');
    interrupted = true;
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let drawn = 0;
  let lastPrinted = 0;
  const write = (s: string) => process.stdout.write(s);
  const onEvent = (e: NetworkEvent) => {
    if (json) return write(JSON.stringify(e) + '\n');
    if (e.event === 'stats') {
      const lines = renderTable(e.routers, e.traffic, e.phase, e.t);
      if (tty) {
        // Redraw the status in place: up over the previous one, clear to the end of the screen.
        write((drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '') + lines.join('\n') + '\n');
        drawn = lines.length;
      } else if (e.t - lastPrinted >= 5 || e.phase === 'done') {
        lastPrinted = e.t;
        write(lines.join('\n') + '\n\n');
      }
      return;
    }
    drawn = 0;
    if (e.event === 'ready')
      write(
        `router ${e.router} ${e.ident.slice(0, 8)} on ${e.ntcp2}${e.floodfill ? ' (floodfill)' : ''} in ${e.dataDir}\n`,
      );
    else if (e.event === 'tunnels')
      write(
        `tunnels of ${e.hops} hop${e.hops === 1 ? '' : 's'} after ${(e.ms / 1000).toFixed(1)} s (in/out per router: ${e.perRouter.map((p) => `${p.inbound}/${p.outbound}`).join(' ')})\n`,
      );
    else if (e.event === 'kill') write(`killing router ${e.router} ${e.ident.slice(0, 8)} at message ${e.atMessage}\n`);
    else write(`warning: ${e.message}\n`);
  };

  if (i2pdNote) onEvent({ event: 'warning', message: i2pdNote });
  let summary: NetworkSummary;
  try {
    summary = await runNetwork({
      routers,
      i2pd,
      messages,
      intervalMs: interval * 1000,
      signal: abort.signal,
      onEvent,
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(hops !== undefined ? { hops } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(kill ? { kill } : {}),
      ...(values.streaming && i2pd > 0 ? { streamingBytes: 64 * 1024 } : {}),
    });
  } catch (e) {
    const msg = e instanceof I2pdUnavailableError ? e.message : ((e as Error).stack ?? String(e));
    if (json) write(JSON.stringify({ event: 'error', message: (e as Error).message }) + '\n');
    process.stderr.write(`tunnelplane network: ${msg}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (json) write(JSON.stringify(summary) + '\n');
  else write(readableSummary(summary, interrupted));
  if (interrupted) return 130;
  return summary.ok ? 0 : 1;
}

function readableSummary(s: NetworkSummary, interrupted: boolean): string {
  const pct = s.sent > 0 ? ((100 * s.delivered) / s.sent).toFixed(1) : '0';
  const lines = [
    '',
    `summary: ${s.sent} messages sent, ${s.delivered} delivered (${pct} %), ${s.corrupted} corrupted, ${s.lost} lost` +
      ` (${s.routers} routers${s.i2pd ? ` + ${s.i2pd} i2pd` : ''}, ${s.hops}-hop tunnels, seed ${s.seed})`,
    `  latency p50 ${s.latencyMsP50} ms, p99 ${s.latencyMsP99} ms; ${s.messagesPerSecond} messages/s, ${(s.bytesDelivered / 1024 / 1024).toFixed(1)} MB delivered in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `  every tunnel hop one of our routers: ${s.hopsOurs ? 'yes' : 'no'}`,
  ];
  if (s.streaming)
    lines.push(
      `  i2pd streaming (A's client tunnel -> B's server tunnel -> echo): ${s.streaming.ok ? `${s.streaming.echoed} bytes back equal` : `FAILED: ${s.streaming.error}`} after ${(s.streaming.ms / 1000).toFixed(1)} s`,
    );
  if (s.streaming && !s.streaming.ok && s.streaming.i2pdLog?.length)
    lines.push('  i2pd log:', ...s.streaming.i2pdLog.map((l) => `    ${l}`));
  if (s.kill)
    lines.push(
      `  router ${s.kill.router} stopped at ${(s.kill.atMs / 1000).toFixed(1)} s: ${s.kill.lostAfter} lost after it, the last sent ${(s.kill.gapMs / 1000).toFixed(1)} s after the kill; longest pause in deliveries ${(s.kill.pauseMs / 1000).toFixed(1)} s; ${s.kill.deliveredAfterGap}/${s.kill.sentAfterGap} delivered since`,
    );
  lines.push(
    interrupted
      ? 'interrupted: everything stopped, temporary directories removed'
      : s.kill
        ? `result: ${s.ok ? 'OK' : 'FAILED'} (with a router stopped: needs delivery back within 60 s and none corrupted)`
        : s.ok
          ? `result: OK (>= ${DELIVERY_THRESHOLD * 100} % delivered, none corrupted)`
          : `result: FAILED (needs >= ${DELIVERY_THRESHOLD * 100} % delivered and none corrupted)`,
    '',
    'next: tunnelplane network --help (more routers, --hops, --kill, --json), docs/network.md,',
    '      npm run bench (the crypto and framing benchmark), tunnelplane router --help (one router on its own)',
    '',
  );
  return lines.join('\n');
}

// The benchmark harness: report shape, validation before timing, selection, arguments, registry, chart.
// No assertion here depends on a measured speed.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench, selectWorkloads, batchesOf, threadsOf, type Outcome } from '../src/bench/harness.js';
import { formatJson, formatMarkdown, formatTable } from '../src/bench/report.js';
import { renderChart } from '../src/bench/chart.js';
import { parseSpeed } from '../src/bench/openssl.js';
import { createRng } from '../src/bench/random.js';
import { loadWorkloads, WORKLOAD_MODULES } from '../src/bench/workloads/index.js';
import {
  defineWorkload,
  Unavailable,
  type Implementation,
  type RunContext,
  type Workload,
} from '../src/bench/types.js';
import { parseBenchArgs } from '../src/cli/bench.js';
import { UsageError } from '../src/cli/args.js';
import { main } from '../src/cli/main.js';

// A tiny workload: XOR every byte of each 16-byte message with a per-message key byte.
interface XorInput {
  batch: number;
  keys: Uint8Array;
  data: Uint8Array;
}
function xorImpl(mutate?: (out: Uint8Array) => void): Implementation<XorInput> {
  return {
    setup(inp) {
      const out = new Uint8Array(inp.data.length);
      return {
        run() {
          for (let i = 0; i < out.length; i++) out[i] = inp.data[i]! ^ inp.keys[i >> 4]!;
          mutate?.(out);
        },
        output: () => out,
      };
    },
  };
}
function xorWorkload(id: string, impls: Workload<XorInput>['impls'], extra: Partial<Workload<XorInput>> = {}) {
  return defineWorkload<XorInput>({
    id,
    description: `test workload ${id}`,
    bytesPerMessage: 16,
    batches: [1, 4, 8],
    input: (batch, rng) => ({ batch, keys: rng.bytes(batch), data: rng.bytes(16 * batch) }),
    impls,
    ...extra,
  });
}

const FAST = { timeMs: 2, warmupMs: 1, iterations: 2, ceiling: false } as const;

describe('bench harness', () => {
  it('produces the JSON object of the issue, with one row per workload, impl, batch and threads', async () => {
    const w = xorWorkload(
      'xor-a',
      { noble: xorImpl(), 'node-naive': xorImpl(), tunnelplane: xorImpl() },
      {
        ceiling: { algorithm: 'aes-256-cbc' },
      },
    );
    const outcome = await runBench({ workloads: [w], ...FAST });
    expect(outcome.problems).toEqual([]);
    const doc = JSON.parse(formatJson(outcome.report));
    expect(Object.keys(doc)).toEqual(['tool', 'version', 'date', 'machine', 'results', 'ceiling']);
    expect(doc.tool).toBe('tunnelplane bench');
    expect(doc.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(new Date(doc.date).toISOString()).toBe(doc.date);
    expect(Object.keys(doc.machine)).toEqual(['cpu', 'cores', 'node', 'openssl']);
    expect(doc.machine.cores).toBeGreaterThan(0);
    expect(doc.machine.node).toBe(process.version);
    expect(doc.results).toHaveLength(9);
    for (const r of doc.results) {
      expect(Object.keys(r)).toEqual([
        'workload',
        'impl',
        'batch',
        'threads',
        'msgsPerSec',
        'mbPerSec',
        'rme',
        'samples',
      ]);
      expect(r.workload).toBe('xor-a');
      expect(r.threads).toBe(1);
      expect(r.msgsPerSec).toBeGreaterThan(0);
      expect(r.mbPerSec).toBeCloseTo((r.msgsPerSec * 16) / 1e6, 2);
      expect(r.samples).toBeGreaterThanOrEqual(2);
    }
    expect(new Set(doc.results.map((r: { batch: number }) => r.batch))).toEqual(new Set([1, 4, 8]));
    // The ceiling was disabled: the entry is there, with null and a reason.
    expect(doc.ceiling).toEqual([
      { workload: 'xor-a', msgsPerSec: null, source: expect.stringContaining('not measured') },
    ]);
  });

  it('the table shows ratios to the baselines measured in the same run', async () => {
    const w = xorWorkload('xor-t', { tunnelplane: xorImpl(), noble: xorImpl(), 'node-naive': xorImpl() });
    const outcome = await runBench({ workloads: [w], quick: true, ...FAST });
    const table = formatTable(outcome);
    expect(table).toContain('xor-t: test workload xor-t');
    expect(table).toMatch(/vs noble/);
    expect(table).toMatch(/vs node-naive/);
    expect(table).toMatch(/noble\s+8\s.*1\.00x/);
    expect(table).not.toContain('FAILED');
    const md = formatMarkdown(outcome);
    expect(md).toMatch(/^Measured with `tunnelplane bench` /);
    expect(md).toContain('| impl | batch | msg/s | MB/s | ±% | vs noble | vs node-naive | samples |');
    expect(md).toContain('|:---|---:|---:|---:|---:|---:|---:|---:|');
    expect(md.match(/^\| (tunnelplane|noble|node-naive) \| 8 \|/gm)).toHaveLength(3);
  });

  it('validation catches an implementation that produces different bytes, and the other workloads still run', async () => {
    const bad = xorWorkload('xor-bad', {
      noble: xorImpl(),
      'node-naive': xorImpl(),
      'tunnelplane-wasm': xorImpl((out) => {
        if (out.length > 20) out[20]! ^= 1;
      }),
    });
    const good = xorWorkload('xor-good', { noble: xorImpl(), 'node-naive': xorImpl() });
    const outcome = await runBench({ workloads: [bad, good], ...FAST });
    expect(outcome.problems).toHaveLength(1);
    const p = outcome.problems[0]!;
    expect(p.workload).toBe('xor-bad');
    expect(p.message).toMatch(/validation failed at batch 4/);
    expect(p.message).toContain('{tunnelplane-wasm} vs {noble, node-naive}');
    expect(p.message).toContain('first difference at byte 20 (message 1, offset 4)');
    // Batch 1 validated and was timed, but an aborted workload reports no figures at all.
    expect(outcome.report.results.filter((r) => r.workload === 'xor-bad')).toEqual([]);
    expect(outcome.report.results.filter((r) => r.workload === 'xor-good')).toHaveLength(6);
    expect(formatTable(outcome)).toMatch(/FAILED \(1\):\n {2}xor-bad: validation failed/);
  });

  it('gives every implementation the same input, even when one mutates its own', async () => {
    const seen: string[] = [];
    const spy: Implementation<XorInput> = {
      setup(inp) {
        seen.push(Buffer.from(inp.data).toString('hex'));
        inp.data.fill(0);
        return { run() {}, output: () => new Uint8Array(1) };
      },
    };
    await runBench({ workloads: [xorWorkload('xor-in', { a: spy, b: spy, c: spy }, { batches: [4] })], ...FAST });
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
    expect(seen[0]).toBe(
      Buffer.from(
        createRng('xor-in/4')
          .bytes(4 + 64)
          .subarray(4),
      ).toString('hex'),
    );
  });

  it('reports an Unavailable implementation as skipped and a throwing one as a problem', async () => {
    const unavailable: Implementation<XorInput> = {
      setup() {
        throw new Unavailable('no SIMD here');
      },
    };
    const broken: Implementation<XorInput> = {
      setup() {
        throw new Error('boom');
      },
    };
    const w = xorWorkload('xor-skip', {
      noble: xorImpl(),
      'tunnelplane-wasm': unavailable,
      'tunnelplane-node': broken,
    });
    const outcome = await runBench({ workloads: [w], ...FAST });
    expect(outcome.skips).toEqual([{ workload: 'xor-skip', impl: 'tunnelplane-wasm', reason: 'no SIMD here' }]);
    expect(outcome.problems).toHaveLength(1);
    expect(outcome.problems[0]!.message).toMatch(/boom/);
    expect(outcome.report.results.map((r) => r.impl)).toEqual(['noble', 'noble', 'noble']);
  });

  it('awaits async implementations and runs thread counts as separate rows', async () => {
    let closed = 0;
    const pool: Implementation<XorInput> = {
      async setup(inp, ctx) {
        const inner = await xorImpl().setup(inp, ctx);
        return {
          run: async () => {
            await Promise.resolve();
            await inner.run();
          },
          output: () => inner.output(),
          close: async () => {
            closed++;
          },
        };
      },
    };
    const w = xorWorkload(
      'xor-pool',
      { tunnelplane: pool, noble: xorImpl() },
      {
        batches: [8],
        threads: [1, 'max'],
        messagesPerRun: (b, t) => b * t,
      },
    );
    const outcome = await runBench({ workloads: [w], threads: 3, ...FAST });
    expect(outcome.problems).toEqual([]);
    expect(outcome.report.results.map((r) => `${r.impl}/${r.threads}`)).toEqual([
      'tunnelplane/1',
      'noble/1',
      'tunnelplane/3',
      'noble/3',
    ]);
    expect(closed).toBe(2);
  });

  it('fails an async implementation whose first run never finishes, and closes it', async () => {
    let closed = false;
    const hung: Implementation<XorInput> = {
      setup: () => ({
        run: () => new Promise<void>(() => {}),
        output: () => new Uint8Array(0),
        close: () => {
          closed = true;
        },
      }),
    };
    const w = xorWorkload('xor-hang', { noble: xorImpl(), tunnelplane: hung }, { batches: [1] });
    const outcome = await runBench({ workloads: [w], ...FAST, firstRunTimeoutMs: 50 });
    expect(outcome.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/first run did not finish within 0.05 s/),
    ]);
    expect(closed).toBe(true);
    expect(outcome.report.results.map((r) => r.impl)).toEqual(['noble']);
  });

  it('reports progress with a growing count', async () => {
    const seen: number[] = [];
    const w = xorWorkload('xor-prog', { a: xorImpl(), b: xorImpl() });
    await runBench({
      workloads: [w],
      ...FAST,
      onProgress: (p) => {
        if (p.phase === 'time') seen.push(p.done);
      },
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  /** xorImpl whose every run appends `tag(ctx)` to `log`: the order in which the harness runs implementations. */
  const loggedImpl = (log: string[], tag: (ctx: RunContext) => string): Implementation<XorInput> => {
    const inner = xorImpl();
    return {
      setup(inp, ctx) {
        const r = inner.setup(inp, ctx) as { run: () => void; output: () => Uint8Array };
        const t = tag(ctx);
        return {
          run: () => {
            log.push(t);
            r.run();
          },
          output: () => r.output(),
        };
      },
    };
  };

  it('times the implementations of a comparison in turn, round after round (--rounds)', async () => {
    const log: string[] = [];
    const logged = (name: string) => loggedImpl(log, () => name);
    const w = xorWorkload('xor-rounds', { a: logged('a'), b: logged('b') }, { batches: [4] });
    const outcome = await runBench({ workloads: [w], ...FAST, rounds: 3 });
    // Runs of the same implementation collapsed: validation (a, b), then three rounds of timing a then b.
    const turns = log.filter((x, i) => i === 0 || log[i - 1] !== x);
    expect(turns).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    expect(outcome.report.results.map((r) => r.impl)).toEqual(['a', 'b']);
    expect(outcome.report.results.every((r) => r.msgsPerSec > 0 && r.samples >= 3)).toBe(true);
  });

  it('times the thread counts of one batch size in the same rounds, rows kept in plan order', async () => {
    const log: string[] = [];
    const logged = (name: string) => loggedImpl(log, (ctx) => `${name}${ctx.threads}/${ctx.batch}`);
    const w = xorWorkload('xor-paired', { a: logged('a'), b: logged('b') }, { batches: [4, 8], threads: [1, 'max'] });
    const outcome = await runBench({ workloads: [w], threads: 2, ...FAST, rounds: 2 });
    expect(outcome.problems).toEqual([]);
    const turns = log.filter((x, i) => i === 0 || log[i - 1] !== x);
    // Batch 4: validation of both thread counts, then two rounds of a1 b1 a2 b2; then the same for batch 8.
    const round = (b: number): string[] => [`a1/${b}`, `b1/${b}`, `a2/${b}`, `b2/${b}`];
    expect(turns).toEqual([...round(4), ...round(4), ...round(4), ...round(8), ...round(8), ...round(8)]);
    expect(outcome.report.results.map((r) => `${r.impl}${r.threads}/${r.batch}`)).toEqual([
      'a1/4',
      'b1/4',
      'a1/8',
      'b1/8',
      'a2/4',
      'b2/4',
      'a2/8',
      'b2/8',
    ]);
  });

  it("calls a pipelined runner's finish() after each timing period, before the next implementation is timed", async () => {
    const log: string[] = [];
    const pipelined: Implementation<XorInput> = {
      setup(inp, ctx) {
        const r = xorImpl().setup(inp, ctx) as { run: () => void; output: () => Uint8Array };
        let inFlight = 0;
        return {
          run: async () => {
            log.push('p');
            inFlight++;
            r.run();
          },
          output: () => r.output(),
          finish: async () => {
            await Promise.resolve();
            log.push(`finish ${inFlight}`);
            inFlight = 0;
          },
        };
      },
    };
    const w = xorWorkload('xor-pipe', { p: pipelined, b: loggedImpl(log, () => 'b') }, { batches: [4] });
    const outcome = await runBench({ workloads: [w], ...FAST, rounds: 3 });
    expect(outcome.problems).toEqual([]);
    const turns = log.filter((x, i) => i === 0 || log[i - 1] !== x).map((x) => x.replace(/ \d+$/, ''));
    // Validation (p, b), then per round: p's timed runs, its finish, then b.
    expect(turns).toEqual(['p', 'b', 'p', 'finish', 'b', 'p', 'finish', 'b', 'p', 'finish', 'b']);
    expect(log.filter((x) => x.startsWith('finish')).every((x) => Number(x.split(' ')[1]) > 0)).toBe(true);
  });

  it('says plainly when there is no openssl binary', async () => {
    const w = xorWorkload('xor-c', { a: xorImpl() }, { ceiling: { algorithm: 'sha256' }, batches: [1] });
    const outcome = await runBench({
      workloads: [w],
      timeMs: 2,
      warmupMs: 1,
      iterations: 2,
      opensslBinary: '/nonexistent/openssl',
    });
    expect(outcome.report.machine.openssl).toBeNull();
    expect(outcome.report.ceiling[0]!.msgsPerSec).toBeNull();
    expect(formatTable(outcome)).toMatch(/hardware ceiling: not measured: no openssl binary on PATH/);
  });
});

describe('selection', () => {
  const w1 = xorWorkload('aes-x', { noble: xorImpl(), 'node-naive': xorImpl(), tunnelplane: xorImpl() });
  const w2 = xorWorkload('sha-x', { noble: xorImpl() }, { batches: [1, 16, 64, 256], threads: [1, 'max'] });
  it('--filter keeps whole workloads by id, or single implementations by workload/impl', () => {
    expect(selectWorkloads([w1, w2], /aes/).map((s) => [s.workload.id, s.impls])).toEqual([
      ['aes-x', ['noble', 'node-naive', 'tunnelplane']],
    ]);
    expect(selectWorkloads([w1, w2], /noble$/).map((s) => [s.workload.id, s.impls])).toEqual([
      ['aes-x', ['noble']],
      ['sha-x', ['noble']],
    ]);
    expect(selectWorkloads([w1, w2], /nothing/)).toEqual([]);
  });
  it('--quick takes one batch size, the largest up to 64', () => {
    expect(batchesOf(w2, true)).toEqual([64]);
    expect(batchesOf(w2, false)).toEqual([1, 16, 64, 256]);
    expect(threadsOf(w2, true, 2)).toEqual([1, 2]);
    expect(threadsOf(w2, false, 1)).toEqual([1]);
  });
});

describe('tunnelplane bench arguments', () => {
  it('parses the options', () => {
    const a = parseBenchArgs([
      '--quick',
      '--json',
      '--filter',
      'aes|sha',
      '--threads',
      '4',
      '--out',
      join(tmpdir(), 'x.json'),
    ]);
    expect(a.quick).toBe(true);
    expect(a.json).toBe(true);
    expect(a.filter!.test('sha256-1008')).toBe(true);
    expect(a.threads).toBe(4);
  });
  it('rejects bad input with a UsageError', () => {
    expect(() => parseBenchArgs(['--filter', '(unclosed'])).toThrow(/--filter: not a valid regular expression/);
    expect(() => parseBenchArgs(['--filter', ''])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--threads', '0'])).toThrow(/--threads must be between 1 and 256/);
    expect(() => parseBenchArgs(['--threads', 'many'])).toThrow(/--threads takes a whole number/);
    expect(() => parseBenchArgs(['--out', '/nonexistent-dir/x.json'])).toThrow(/--out: directory .* does not exist/);
    expect(() => parseBenchArgs(['--bogus'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--json', '--markdown'])).toThrow(/exclude each other/);
    expect(() => parseBenchArgs(['--time', '-5'])).toThrow(UsageError);
  });
  it('exits with status 2 on a usage error and on a filter that matches nothing', async () => {
    const write = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await main(['bench', '--threads', 'x'])).toBe(2);
      expect(await main(['bench', '--filter', '['])).toBe(2);
      expect(await main(['bench', '--filter', '^no-such-workload$'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
  });
});

describe('workload registry', () => {
  it('lists every workload module statically, ids in listing order and unique', () => {
    const reg = loadWorkloads();
    expect(reg.failures).toEqual([]);
    expect(WORKLOAD_MODULES.map((m) => m.name)).toEqual(['primitives', 'layer', 'frame', 'pool', 'ntcp2', 'router']);
    const ids = reg.workloads.map((w) => w.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'aes-cbc-1008',
      'chacha20-1008',
      'sha256-1008',
      'aes-hop',
      'aes-hop-tunnel',
      'aes-strip-3',
      'chacha-hop',
      'replay-filter',
      'gateway-pack-1k',
      'endpoint-reassemble-16k',
      'frame-sha256-4k',
      'pool-aes-hop',
      'pool-chacha-hop',
      'ntcp2-frame-1k',
      'ntcp2-frame-16k',
      'router-forward',
      'tunnel-build-hop',
    ]) {
      expect(ids).toContain(id);
    }
    expect(ids.slice(0, 3)).toEqual(['aes-cbc-1008', 'chacha20-1008', 'sha256-1008']);
  });

  it('reports invalid workloads and duplicate ids and keeps the rest', () => {
    const [aes] = loadWorkloads([WORKLOAD_MODULES[0]!]).workloads;
    const reg = loadWorkloads([
      { name: 'a', workloads: [aes, { id: 'no-input', impls: {}, batches: [1], bytesPerMessage: 1 }] },
      { name: 'b', workloads: [aes] },
    ]);
    expect(reg.workloads.map((w) => w.id)).toEqual(['aes-cbc-1008']);
    expect(reg.failures).toEqual([
      { module: 'a', error: 'invalid workload: no-input: no input()' },
      { module: 'b', error: "duplicate workload id 'aes-cbc-1008'" },
    ]);
  });

  it('every implementation of the primitive workloads agrees on batch 16', async () => {
    const reg = loadWorkloads([WORKLOAD_MODULES[0]!]);
    const outcome = await runBench({ workloads: reg.workloads, quick: true, ...FAST, filter: /1008/ });
    expect(outcome.problems).toEqual([]);
    for (const id of ['aes-cbc-1008', 'chacha20-1008', 'sha256-1008']) {
      expect(outcome.report.results.some((r) => r.workload === id && r.impl === 'noble')).toBe(true);
      expect(outcome.report.results.some((r) => r.workload === id && r.impl === 'node-naive')).toBe(true);
    }
  });
});

describe('ntcp2-frame workloads', () => {
  const reg = loadWorkloads([WORKLOAD_MODULES.find((m) => m.name === 'ntcp2')!]);

  it('every implementation agrees with the @noble row on batch 16, and the ceiling is chacha20-poly1305 at the frame size', async () => {
    const outcome = await runBench({ workloads: reg.workloads, quick: true, ...FAST });
    expect(outcome.problems).toEqual([]);
    for (const w of reg.workloads) {
      expect(w.ceiling).toEqual({ algorithm: 'chacha20-poly1305', opsPerMessage: 2, bytes: w.bytesPerMessage });
      for (const impl of [
        'tunnelplane',
        'tunnelplane-batch',
        'tunnelplane-wasm',
        'tunnelplane-core',
        'noble',
        'node-naive',
      ]) {
        expect(
          outcome.report.results.some((r) => r.workload === w.id && r.impl === impl),
          `${w.id}/${impl}`,
        ).toBe(true);
      }
    }
  });

  it('measures the ceiling with -bytes at the frame size, one openssl run per size, halved for seal + open', async () => {
    // A stand-in openssl: 1000 operations per second of whatever size it is asked for.
    const dir = mkdtempSync(join(tmpdir(), 'tp-openssl-'));
    const bin = join(dir, 'openssl');
    writeFileSync(
      bin,
      '#!/bin/sh\n[ "$1" = version ] && { echo "FakeSSL 1.0"; exit 0; }\n' +
        'echo "$@" >> "$0.log"\nwhile [ "$1" != -bytes ]; do shift; done\necho "+F:25:x:$(( $2 * 1000 ))"\n',
      { mode: 0o755 },
    );
    const outcome = await runBench({
      workloads: reg.workloads,
      quick: true,
      timeMs: 2,
      warmupMs: 1,
      iterations: 2,
      opensslBinary: bin,
      filter: /ntcp2-frame.*\/noble$/,
    });
    expect(outcome.report.ceiling.map((c) => [c.workload, c.msgsPerSec])).toEqual([
      ['ntcp2-frame-1k', 500],
      ['ntcp2-frame-16k', 500],
    ]);
    expect(outcome.report.ceiling[1]!.source).toContain('openssl speed -evp chacha20-poly1305 -bytes 16384 -seconds 1');
    expect(readFileSync(`${bin}.log`, 'utf8').trim().split('\n')).toHaveLength(2);
    rmSync(dir, { recursive: true, force: true });
  });

  it('validation catches a frame implementation that gets one byte wrong', async () => {
    const [w] = reg.workloads;
    const good = w!.impls['tunnelplane-batch']!;
    const bad = {
      setup: async (inp: unknown, ctx: any) => {
        const r = await good.setup(inp, ctx);
        return {
          ...r,
          output: () => {
            const o = r.output().slice();
            o[o.length - 1] ^= 1;
            return o;
          },
        };
      },
    };
    const outcome = await runBench({
      workloads: [{ ...w!, impls: { noble: w!.impls.noble, 'tunnelplane-batch': bad } }],
      ...FAST,
      quick: true,
    });
    expect(outcome.problems.map((p) => p.workload)).toEqual([w!.id]);
  });
});

describe('openssl ceiling', () => {
  it('parses openssl speed -mr output', () => {
    const out = '+DT:AES-256-CBC:1:1008\n+R:858213:AES-256-CBC:0.990000\n+H:1008\n+F:25:AES-256-CBC:873816872.73\n';
    expect(parseSpeed(out)).toBeCloseTo(873816872.73 / 1008, 3);
    expect(parseSpeed('+R:1000:sha256:2.000000\n')).toBe(500);
    expect(parseSpeed('garbage')).toBeNull();
  });
});

/** A minimal XML well-formedness check: balanced tags, quoted attributes, known entities only. */
function checkXml(text: string): void {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos);)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) {
    if (m[0] === '<') throw new Error(`stray or malformed tag at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (m[0].startsWith('&')) throw new Error(`bad entity at ${m.index}`);
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else stack.push(name!);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
}

describe('chart', () => {
  it('is a well-formed SVG with one panel per workload and one line per implementation', async () => {
    const w1 = xorWorkload('xor-<&>', { noble: xorImpl(), 'node-naive': xorImpl() });
    const w2 = xorWorkload('xor-2', { a: xorImpl() }, { batches: [4], threads: [1, 2] });
    const outcome: Outcome = await runBench({ workloads: [w1, w2], ...FAST });
    outcome.report.ceiling.push({ workload: 'xor-2', msgsPerSec: 1, source: 'test' });
    const svg = renderChart(outcome.report);
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toMatch(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
    checkXml(svg);
    expect(svg.match(/class="panel"/g)).toHaveLength(2);
    expect(svg).toContain('data-workload="xor-&lt;&amp;&gt;"');
    expect(svg.match(/<polyline /g)).toHaveLength(2); // w1's two impls over 3 batches; w2 has a single batch
    expect(svg).toContain('a ×2');
    expect(svg).toContain('class="ceiling"');
    expect(() => checkXml('<svg><g></svg>')).toThrow();
  });

  it('renders an empty report', () => {
    const svg = renderChart({
      tool: 't',
      version: '0',
      date: 'd',
      machine: { cpu: 'c', cores: 1, node: 'n', openssl: null },
      results: [],
      ceiling: [],
    });
    checkXml(svg);
    expect(svg).toContain('no results');
  });
});

describe('rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    expect(createRng('a').bytes(33)).toEqual(createRng('a').bytes(33));
    expect(createRng('a').bytes(16)).not.toEqual(createRng('b').bytes(16));
    const r = createRng(1);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(10);
      expect(v >= 0 && v < 10 && Number.isInteger(v)).toBe(true);
    }
  });
});

describe('tunnelplane bench (compiled CLI)', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bin = join(root, 'bin', 'tunnelplane.js');
  const built = existsSync(join(root, 'dist', 'src', 'bench', 'harness.js'));
  it.skipIf(!built)('--quick --json --out writes the report and validates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-bench-cli-'));
    const out = join(dir, 'bench.json');
    const chart = join(dir, 'bench.svg');
    const r = spawnSync(
      process.execPath,
      [bin, 'bench', '--quick', '--json', '--out', out, '--chart', chart, '--filter', 'sha256-1008', '--time', '5'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('sha256-1008');
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.results.length).toBeGreaterThanOrEqual(2);
    expect(doc.results.every((x: { workload: string }) => x.workload === 'sha256-1008')).toBe(true);
    checkXml(readFileSync(chart, 'utf8'));
  });
});

describe('router workloads', () => {
  const reg = loadWorkloads([WORKLOAD_MODULES.find((m) => m.name === 'router')!]);

  it('tunnel-build-hop processes every record as OBEP and reports the X25519 floor beside it', async () => {
    const outcome = await runBench({ workloads: reg.workloads, quick: true, ...FAST, filter: /^tunnel-build-hop$/ });
    expect(outcome.problems).toEqual([]);
    const [row] = outcome.report.results;
    expect(row).toMatchObject({ workload: 'tunnel-build-hop', impl: 'tunnelplane', batch: 16 });
    expect(row!.figures!['X25519/s (node:crypto)']).toBeGreaterThan(0);
    expect(row!.figures!['records/s over X25519/s']).toBeGreaterThan(0);
    expect(formatTable(outcome)).toContain('tunnelplane batch 16: X25519/s (node:crypto)');
    expect(JSON.parse(formatJson(outcome.report)).results[0].figures['X25519/s (node:crypto)']).toBeGreaterThan(0);
  });

  it(
    "router-forward runs A -> B -> C with every body checked and reports B's CPU per message",
    { timeout: 120_000 },
    async () => {
      // B runs from the compiled dist/ (npm test builds first); a missing build is reported as a skip, which fails here.
      const outcome = await runBench({ workloads: reg.workloads, quick: true, ...FAST, filter: /^router-forward$/ });
      expect(outcome.skips).toEqual([]);
      expect(outcome.problems).toEqual([]);
      const [row] = outcome.report.results;
      expect(row).toMatchObject({ workload: 'router-forward', impl: 'tunnelplane', batch: 256 });
      expect(row!.msgsPerSec).toBeGreaterThan(0);
      expect(row!.figures!['B CPU µs/msg']).toBeGreaterThan(0);
      expect(row!.figures!['msg per B CPU-second']).toBeGreaterThan(0);
    },
  );
});

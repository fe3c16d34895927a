// The two measurements behind docs/router-data-path.md's choices, best of many short runs (the machine is shared):
// (1) one frame's ChaCha20-Poly1305 seal and open with the WASM crypto core and with node:crypto at frame sizes from
//     control traffic to a full forwarding frame; (2) the copies on the send side: the output batch leaving shared
//     memory in one bulk copy then each body set into a frame, against each body set straight from shared memory.
//
//   npm run build:ts && node dist/bench/router-path-parts.js
import { randomBytes } from 'node:crypto';
import { coreFrameAead, nodeFrameAead } from '../src/transport/ntcp2/frames.js';

function aead(): void {
  const key = randomBytes(32);
  const nonce = new Uint8Array(12);
  const impls = [coreFrameAead(), nodeFrameAead];
  for (const size of [1100, 3000, 8300, 62000]) {
    const pt = randomBytes(size);
    const out = new Uint8Array(size + 16);
    const back = new Uint8Array(size);
    const best = impls.map(() => ({ seal: Infinity, open: Infinity }));
    for (let r = 0; r < 300; r++) {
      impls.forEach((a, k) => {
        let t = performance.now();
        for (let i = 0; i < 5; i++) a.seal(key, nonce, pt, out);
        best[k]!.seal = Math.min(best[k]!.seal, (performance.now() - t) / 5);
        t = performance.now();
        for (let i = 0; i < 5; i++) if (!a.open(key, nonce, out, back)) throw new Error('open failed');
        best[k]!.open = Math.min(best[k]!.open, (performance.now() - t) / 5);
      });
    }
    impls.forEach((a, k) => {
      const b = best[k]!;
      console.log(
        `aead ${a.name.padEnd(10)} ${String(size).padStart(6)} B: seal ${(b.seal * 1000).toFixed(1)} us (${(size / b.seal / 1e3).toFixed(0)} MB/s), open ${(b.open * 1000).toFixed(1)} us (${(size / b.open / 1e3).toFixed(0)} MB/s)`,
      );
    });
  }
}

function copies(): void {
  const N = 256,
    S = 1028,
    STEP = S + 12; // 12 = block header (3) + I2NP short header (9)
  const shared = new Uint8Array(new SharedArrayBuffer(N * S * 2));
  const frame = new Uint8Array(65519);
  const best = (f: () => void) => {
    let m = Infinity;
    for (let r = 0; r < 400; r++) {
      const t = performance.now();
      f();
      m = Math.min(m, performance.now() - t);
    }
    return (m * 1000) / N;
  };
  const bulk = best(() => void shared.slice(0, N * S));
  const priv = shared.slice(0, N * S);
  const into = (src: Uint8Array) => () => {
    let o = 0;
    for (let i = 0; i < N; i++) {
      if (o + S > frame.length) o = 0;
      frame.set(src.subarray(i * S, (i + 1) * S), o);
      o += STEP;
    }
  };
  const fromPrivate = best(into(priv));
  const fromShared = best(into(shared));
  const queue = best(() => {
    const q: { type: number; msgId: number; expiration: number; body: Uint8Array }[] = [];
    for (let i = 0; i < N; i++) q.push({ type: 18, msgId: i, expiration: 1, body: priv.subarray(i * S, (i + 1) * S) });
  });
  console.log(
    `copies per message: bulk slice out of shared memory ${bulk.toFixed(3)} us; body into the frame from private memory ${fromPrivate.toFixed(3)} us; queue entry ${queue.toFixed(3)} us; body into the frame straight from shared memory ${fromShared.toFixed(3)} us`,
  );
}

aead();
copies();

// The batch kernels of every family share one bounds check (assembly/layout.ts spanInRegion): a batch that ends
// exactly at the end of its region (MSG or IO) runs, one byte more or any malformed geometry returns -1.
import { describe, expect, it } from 'vitest';
import { IO_SIZE, MAX_BATCH, POLY1305_TAG_SIZE, TUNNEL_DATA_SIZE } from '../src/constants.js';
import { createInstance } from '../src/wasm/loader.js';

type Kernel = (...a: number[]) => number;

const REGIONS = [
  { region: 0, name: 'MSG', size: MAX_BATCH * TUNNEL_DATA_SIZE, n: MAX_BATCH, stride: TUNNEL_DATA_SIZE },
  { region: 1, name: 'IO', size: IO_SIZE, n: 4, stride: Math.floor(IO_SIZE / 4) },
] as const;

describe('WASM batch kernels: one region bounds check', () => {
  for (const flavor of ['plain', 'simd', 'debug'] as const) {
    it(`${flavor}: chachaXorBatch, aeadSealBatch and sha256Batch accept a batch up to the region's last byte, no further`, () => {
      const inst = createInstance({ flavor });
      const x = inst.exports as unknown as Record<string, Kernel>;
      // Each kernel as (n, region, stride, offset, span): span = every byte a message touches (the AEAD adds its tag).
      const kernels: Record<
        string,
        (n: number, region: number, stride: number, offset: number, span: number) => number
      > = {
        chachaXorBatch: (n, r, s, o, span) => x.chachaXorBatch!(n, r, s, o, span),
        aeadSealBatch: (n, r, s, o, span) => x.aeadSealBatch!(n, r, s, o, span - POLY1305_TAG_SIZE, o, 0),
        sha256Batch: (n, r, s, o, span) => x.sha256Batch!(n, r, s, o, span),
      };
      for (const [name, run] of Object.entries(kernels)) {
        for (const { region, name: rname, size, n, stride } of REGIONS) {
          const span = size - (n - 1) * stride; // message n-1 ends exactly at the region's end
          const at = `${name} in ${rname}`;
          expect(run(n, region, stride, 0, span), at).toBe(n);
          expect(run(n, region, stride, 1, span - 1), at).toBe(n);
          expect(run(n, region, stride, 0, span + 1), `${at}: one byte past`).toBe(-1);
          expect(run(n, region, stride, 1, span), `${at}: one byte past`).toBe(-1);
          expect(run(n, region, stride + 1, 0, span), `${at}: stride one more`).toBe(-1);
          expect(run(0, region, stride, 0, span), `${at}: empty batch`).toBe(0);
        }
        expect(run(MAX_BATCH + 1, 0, 0, 0, POLY1305_TAG_SIZE), `${name}: more than MAX_BATCH`).toBe(-1);
        expect(run(-1, 0, 0, 0, POLY1305_TAG_SIZE), `${name}: negative count`).toBe(-1);
        expect(run(1, 2, 0, 0, POLY1305_TAG_SIZE), `${name}: no region 2`).toBe(-1);
        expect(run(1, -1, 0, 0, POLY1305_TAG_SIZE), `${name}: no region -1`).toBe(-1);
        expect(run(2, 1, -1, 0, POLY1305_TAG_SIZE), `${name}: negative stride`).toBe(-1);
        expect(run(1, 1, 0, -1, POLY1305_TAG_SIZE), `${name}: negative offset`).toBe(-1);
      }
    });
  }
});

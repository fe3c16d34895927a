import { describe, expect, it } from 'vitest';
import { createInstance, chooseFlavor, simdSupported, wasmModule } from '../src/wasm/loader.js';
import * as C from '../src/constants.js';

describe('WASM loader', () => {
  it('chooses SIMD when the engine validates it, plain when forced', () => {
    expect(chooseFlavor()).toBe(simdSupported() ? 'simd' : 'plain');
    expect(chooseFlavor('plain')).toBe('plain');
    expect(() => chooseFlavor('nope' as never)).toThrow(TypeError);
  });

  for (const flavor of ['plain', 'simd', 'debug'] as const) {
    it(`${flavor}: imports nothing but abort, exports no allocator`, () => {
      const mod = wasmModule(flavor);
      const imports = WebAssembly.Module.imports(mod);
      for (const imp of imports) expect(`${imp.module}.${imp.name}`).toBe('env.abort');
      const names = WebAssembly.Module.exports(mod).map((e) => e.name);
      for (const bad of ['__new', '__alloc', '__pin', '__collect', 'malloc']) expect(names).not.toContain(bad);
    });
  }

  it('regions are disjoint, 64-byte aligned and inside memory', () => {
    const inst = createInstance({ flavor: 'plain' });
    const sizes: Record<string, number> = {
      MSG: C.MAX_BATCH * C.TUNNEL_DATA_SIZE,
      MSG_SLOT_A: C.MAX_BATCH * 4,
      MSG_SLOT_B: C.MAX_BATCH * 4,
      MSG_PARAM: C.MAX_BATCH * 16,
      MSG_LEN: C.MAX_BATCH * 4,
      MSG_OUT: C.MAX_BATCH * 32,
      MSG_STATUS: C.MAX_BATCH,
      KEY_IN: C.MAX_BATCH * 32,
      AES_SLOTS: C.AES_KEY_SLOTS * C.AES_SLOT_SIZE,
      CHACHA_SLOTS: C.CHACHA_KEY_SLOTS * C.CHACHA_SLOT_SIZE,
      IO: C.IO_SIZE,
      SCRATCH: 65536,
    };
    const spans = Object.entries(inst.regions).map(([name, base]) => ({ name, base, end: base + sizes[name]! }));
    spans.sort((a, b) => a.base - b.base);
    for (let i = 0; i < spans.length; i++) {
      expect(spans[i]!.base % 64).toBe(0);
      expect(spans[i]!.end).toBeLessThanOrEqual(inst.memory.buffer.byteLength);
      if (i > 0) expect(spans[i]!.base).toBeGreaterThanOrEqual(spans[i - 1]!.end);
    }
  });
});

// ChaCha layer backend 'wasm': assembly/layer.ts chachaLayerBatch, one kernel call per tunnel (per hop for
// creators) over its messages of the batch: AEAD open, layer, id rewrite, AEAD seal (docs/chacha-layer.md).
import { STATUS_OK } from '../../constants.js';
import { ROLE_IBEP, ROLE_OBEP, ROLE_OBGW } from '../types.js';
import { isRun, type BatchSink, type LayerBackend, type LayerTunnel } from './backend.js';
import {
  MODE_FORWARD,
  MODE_INVERSE,
  MODE_OPEN,
  MODE_SEAL,
  MODE_SET_ID,
  WasmHop,
  WasmKeySlot,
  type WasmHost,
  type WasmLayer,
} from './wasm-layer.js';

type Tunnel = LayerTunnel<WasmHop, WasmKeySlot>;

export class WasmChaChaBackend implements LayerBackend<WasmHop, WasmKeySlot> {
  readonly name = 'wasm';
  readonly layer = 'chacha';

  constructor(private readonly wasm: WasmHost) {}

  addHop(layerKey: Uint8Array, ivKey: Uint8Array): WasmHop {
    const w = this.wasm.get();
    const a = w.chachaKey(layerKey);
    try {
      return new WasmHop(a, w.chachaKey(ivKey));
    } catch (err) {
      w.chachaFree(a);
      throw err;
    }
  }

  addAead(key: Uint8Array): WasmKeySlot {
    return new WasmKeySlot(this.wasm.get().chachaKey(key));
  }

  wipeHop(hop: WasmHop): void {
    const w = this.wasm.current;
    if (w) {
      release(w, hop.layerSlot);
      release(w, hop.ivSlot);
    }
    hop.layerSlot = hop.ivSlot = -1;
  }

  wipeAead(key: WasmKeySlot): void {
    const w = this.wasm.current;
    if (w) release(w, key.slot);
    key.slot = -1;
  }

  run(tunnels: readonly Tunnel[], bodies: Uint8Array, status: Uint8Array, sink: BatchSink): void {
    for (const st of tunnels) this.tunnel(st, bodies, status, sink);
  }

  /** One tunnel's messages; the mode of the kernel call depends on the role. */
  private tunnel(st: Tunnel, bodies: Uint8Array, status: Uint8Array, sink: BatchSink): void {
    const w = this.wasm.get();
    const idx = st.pending;
    const n = idx.length;
    // A tunnel's messages are often adjacent in the batch (the data plane groups its batches by tunnel): one copy.
    const first = idx[0]!;
    const adjacent = n > 1 && idx[n - 1] === first + n - 1 && isRun(idx);
    const inSlot = st.inAead === null ? -1 : st.inAead.slot;
    const outSlot = st.outAead === null ? -1 : st.outAead.slot;
    if (adjacent) w.put(0, bodies, first, n);
    for (let k = 0; k < n; k++) {
      if (!adjacent) w.put(k, bodies, idx[k]!);
      w.setChacha(k, inSlot < 0 ? 0 : inSlot, outSlot < 0 ? 0 : outSlot, st.nextTunnelId);
    }
    w.clearStatus(n);
    const open = inSlot >= 0 ? MODE_OPEN : 0;
    const seal = outSlot >= 0 ? MODE_SEAL : 0;
    const setId = st.code === ROLE_OBEP || st.code === ROLE_IBEP ? 0 : MODE_SET_ID;
    if (st.code === ROLE_IBEP || st.code === ROLE_OBGW) {
      for (let j = st.hops.length - 1; j >= 0; j--) {
        const h = st.hops[j]!;
        for (let k = 0; k < n; k++) w.setSlots(k, h.layerSlot, h.ivSlot);
        const firstHop = j === st.hops.length - 1 ? open : 0;
        const lastHop = j === 0 ? setId | seal : 0;
        w.chachaBatch(n, firstHop | MODE_INVERSE | lastHop);
      }
    } else {
      const h = st.hops[0]!;
      for (let k = 0; k < n; k++) w.setSlots(k, h.layerSlot, h.ivSlot);
      w.chachaBatch(n, open | MODE_FORWARD | setId | seal);
    }
    let allOk = adjacent;
    for (let k = 0; k < n; k++) {
      const i = idx[k]!;
      if (w.statusOf(k) !== STATUS_OK) {
        sink.badMac(status, i);
        allOk = false;
      } else if (open === 0 || !sink.replayed(st, i, status)) {
        if (!adjacent) w.get(k, bodies, i);
      } else allOk = false;
    }
    if (allOk) {
      w.get(0, bodies, first, n);
    } else if (adjacent) {
      // Dropped messages keep their bytes as received: copy back only the accepted ones.
      for (let k = 0; k < n; k++) if (status[idx[k]!] === STATUS_OK) w.get(k, bodies, idx[k]!);
    }
  }

  keyViews(st: Tunnel): Uint8Array[] {
    const w = this.wasm.current;
    const out: Uint8Array[] = [];
    if (!w) return out;
    const slots = st.hops.flatMap((h) => [h.layerSlot, h.ivSlot]);
    if (st.inAead) slots.push(st.inAead.slot);
    if (st.outAead) slots.push(st.outAead.slot);
    for (const s of slots) if (s >= 0) out.push(w.chachaSlotView(s));
    return out;
  }

  close(): void {}
}

/** Zeroes a ChaCha slot and returns it to the pool (which clears it again). */
function release(w: WasmLayer, slot: number): void {
  if (slot < 0) return;
  w.chachaSlotView(slot).fill(0);
  w.chachaFree(slot);
}

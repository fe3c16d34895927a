// AES layer backend 'wasm': the constant-time bitsliced AES of assembly/layer.ts, the whole batch in few kernel
// calls (tunnel-crypto-aes.md §2-§4): every forward message in one call, CBC lanes across messages and tunnels.
import { TUNNEL_DATA_SIZE } from '../../constants.js';
import { ROLE_IBEP, ROLE_OBEP, ROLE_OBGW } from '../types.js';
import { noAead, writeId, type LayerBackend, type LayerTunnel } from './backend.js';
import { WasmHop, type WasmHost } from './wasm-layer.js';

type Tunnel = LayerTunnel<WasmHop, never>;

export class WasmAesBackend implements LayerBackend<WasmHop, never> {
  readonly name = 'wasm';
  readonly layer = 'aes';
  /** Creator tunnels of the current batch (reused). */
  private readonly creators: Tunnel[] = [];

  constructor(private readonly wasm: WasmHost) {}

  addHop(layerKey: Uint8Array, ivKey: Uint8Array): WasmHop {
    const w = this.wasm.get();
    const a = w.aesKey(layerKey);
    try {
      return new WasmHop(a, w.aesKey(ivKey));
    } catch (err) {
      w.aesFree(a);
      throw err;
    }
  }

  addAead = noAead;

  wipeHop(hop: WasmHop): void {
    const w = this.wasm.current;
    if (!w) return;
    for (const slot of [hop.layerSlot, hop.ivSlot]) {
      if (slot < 0) continue;
      w.aesSlotView(slot).fill(0);
      w.aesFree(slot);
    }
    hop.layerSlot = hop.ivSlot = -1;
  }

  wipeAead(): void {}

  /**
   * All forward messages (participant / OBEP / IBGW) in one kernel call, then creator messages packed by hop count,
   * longest first, so that the j-th strip round (each tunnel's j-th hop from the end) covers a prefix of them.
   */
  run(tunnels: readonly Tunnel[], bodies: Uint8Array): void {
    const w = this.wasm.get();
    const creators = this.creators;
    let k = 0;
    for (const st of tunnels) {
      if (st.code === ROLE_OBGW || st.code === ROLE_IBEP) {
        creators.push(st);
        continue;
      }
      const h = st.hops[0]!;
      for (const i of st.pending) {
        w.put(k, bodies, i);
        w.setSlots(k, h.layerSlot, h.ivSlot);
        k++;
      }
    }
    try {
      if (k > 0) {
        w.aesBatch(k, false);
        k = 0;
        for (const st of tunnels) {
          if (st.code === ROLE_OBGW || st.code === ROLE_IBEP) continue;
          const rewrite = st.code !== ROLE_OBEP;
          for (const i of st.pending) {
            w.get(k++, bodies, i);
            if (rewrite) writeId(bodies, i * TUNNEL_DATA_SIZE, st.nextTunnelId);
          }
        }
      }
      if (creators.length > 0) this.strip(creators, bodies);
    } finally {
      creators.length = 0;
    }
  }

  private strip(creators: Tunnel[], bodies: Uint8Array): void {
    const w = this.wasm.get();
    creators.sort((a, b) => b.hops.length - a.hops.length);
    let k = 0;
    for (const st of creators) for (const i of st.pending) w.put(k++, bodies, i);
    for (let j = 0; j < creators[0]!.hops.length; j++) {
      k = 0;
      for (const st of creators) {
        if (st.hops.length <= j) break;
        const h = st.hops[st.hops.length - 1 - j]!;
        for (let m = 0; m < st.pending.length; m++) w.setSlots(k++, h.layerSlot, h.ivSlot);
      }
      w.aesBatch(k, true);
    }
    k = 0;
    for (const st of creators) {
      for (const i of st.pending) {
        w.get(k++, bodies, i);
        if (st.code === ROLE_OBGW) writeId(bodies, i * TUNNEL_DATA_SIZE, st.nextTunnelId);
      }
    }
  }

  keyViews(st: Tunnel): Uint8Array[] {
    const w = this.wasm.current;
    const out: Uint8Array[] = [];
    if (!w) return out;
    for (const h of st.hops) {
      if (h.layerSlot >= 0) out.push(w.aesSlotView(h.layerSlot));
      if (h.ivSlot >= 0) out.push(w.aesSlotView(h.ivSlot));
    }
    return out;
  }

  close(): void {
    this.creators.length = 0;
  }
}

// AES layer backend 'hybrid': P with the IV steps of the whole batch in constant-time WASM ECB calls and the CBC
// step with the hop's long-lived node:crypto cipher (tunnel-crypto-aes.md §2). Creators' strips run as in the node
// backend (their CBC decryption merges across a tunnel's messages). docs/tunnel-layers.md says why.
import { DATA_OFFSET, IV_OFFSET, TUNNEL_DATA_SIZE } from '../../constants.js';
import { NodeAesHop } from '../aes-node.js';
import { ROLE_IBEP, ROLE_OBEP, ROLE_OBGW } from '../types.js';
import { isRun, noAead, writeId, type LayerBackend, type LayerTunnel } from './backend.js';
import { INTERLEAVED_CBC_MIN, NodeAesBackend } from './node-aes.js';
import type { WasmHost } from './wasm-layer.js';

/**
 * From this many messages of one tunnel in a batch, CBC runs sideways (NodeAesHop.encryptSideways); below it, the
 * messages get the WASM IV steps and one CBC call each. The node path's extra node:crypto calls per tunnel allocate
 * Buffers that V8 frees on a helper thread, which does not scale with worker threads (docs/tunnel-layers.md).
 */
const HYBRID_SIDEWAYS_MIN = INTERLEAVED_CBC_MIN;
/** Messages staged per WASM IV call (fixed scratch). */
const HYBRID_CHUNK = 32;

/** A node:crypto hop plus its IV key in a WASM AES slot (-1 once released). */
export class HybridHop extends NodeAesHop {
  constructor(
    layerKey: Uint8Array,
    ivKey: Uint8Array,
    public ivSlot: number,
  ) {
    super(layerKey, ivKey);
  }
}

type Tunnel = LayerTunnel<HybridHop, never>;

export class HybridAesBackend implements LayerBackend<HybridHop, never> {
  readonly name = 'hybrid';
  readonly layer = 'aes';
  private readonly node = new NodeAesBackend();
  /** The tunnel and body index of each message staged in the current chunk. */
  private readonly chunkSt: (Tunnel | null)[] = new Array<Tunnel | null>(HYBRID_CHUNK).fill(null);
  private readonly chunkAt = new Int32Array(HYBRID_CHUNK);

  constructor(private readonly wasm: WasmHost) {}

  addHop(layerKey: Uint8Array, ivKey: Uint8Array): HybridHop {
    return new HybridHop(layerKey, ivKey, this.wasm.get().aesKey(ivKey));
  }

  addAead = noAead;

  wipeHop(hop: HybridHop): void {
    hop.wipe();
    const w = this.wasm.current;
    if (w && hop.ivSlot >= 0) {
      w.aesSlotView(hop.ivSlot).fill(0);
      w.aesFree(hop.ivSlot);
    }
    hop.ivSlot = -1;
  }

  wipeAead(): void {}

  /**
   * X = E(ivKey, IV) and IV' = E(ivKey, X) for every forward message in WASM ECB calls (each block its own key
   * slot), the CBC step per message with the tunnel's cipher (one binding call per message instead of three).
   */
  run(tunnels: readonly Tunnel[], bodies: Uint8Array): void {
    try {
      this.forward(tunnels, bodies);
    } finally {
      this.chunkSt.fill(null);
    }
  }

  private forward(tunnels: readonly Tunnel[], bodies: Uint8Array): void {
    const w = this.wasm.get();
    const u8 = w.u8;
    const io = w.io;
    const chunkSt = this.chunkSt;
    const chunkAt = this.chunkAt;
    let k = 0;
    for (const st of tunnels) {
      if (st.code === ROLE_OBGW || st.code === ROLE_IBEP) {
        this.node.tunnel(st, bodies);
        continue;
      }
      if (st.pending.length >= HYBRID_SIDEWAYS_MIN) {
        // Many messages of one tunnel: CBC run sideways across them with node:crypto ECB (63 calls for the group,
        // fewer than one per message). The messages go through WASM memory (MSG and MSG_PARAM; the IV staging
        // below uses IO and MSG_SLOT_A), where a kernel does the block scatter / gather.
        const idx = st.pending;
        const n = idx.length;
        const run = isRun(idx);
        if (run) w.put(0, bodies, idx[0]!, n);
        else for (let m = 0; m < n; m++) w.put(m, bodies, idx[m]!);
        st.hops[0]!.encryptSideways(u8, w.msg, w.param, n, w.sidewaysStep);
        const rewrite = st.code !== ROLE_OBEP;
        if (run) w.get(0, bodies, idx[0]!, n);
        for (let m = 0; m < n; m++) {
          if (!run) w.get(m, bodies, idx[m]!);
          if (rewrite) writeId(bodies, idx[m]! * TUNNEL_DATA_SIZE, st.nextTunnelId);
        }
        continue;
      }
      const slot = st.hops[0]!.ivSlot;
      for (const i of st.pending) {
        const o = i * TUNNEL_DATA_SIZE + IV_OFFSET;
        const d = io + 16 * k;
        for (let j = 0; j < 16; j++) u8[d + j] = bodies[o + j]!;
        w.setSlots(k, slot, 0);
        chunkSt[k] = st;
        chunkAt[k] = i;
        if (++k === HYBRID_CHUNK) {
          this.chunk(k, bodies);
          k = 0;
        }
      }
    }
    if (k > 0) this.chunk(k, bodies);
  }

  /**
   * The rest of P for the k messages staged in IO: both IV steps in one WASM call (they do not depend on the CBC
   * step, and the round keys are prepared once for both), the CBC step under X per message, then IV' and the next
   * tunnel id written back.
   */
  private chunk(k: number, bodies: Uint8Array): void {
    const w = this.wasm.get();
    const u8 = w.u8;
    const io = w.io;
    const io2 = w.ioTwice;
    const chunkSt = this.chunkSt;
    const chunkAt = this.chunkAt;
    w.ecbIoTwice(k);
    for (let m = 0; m < k; m++) {
      const st = chunkSt[m]!;
      const o = chunkAt[m]! * TUNNEL_DATA_SIZE;
      st.hops[0]!.cbcEncryptOne(bodies, o + DATA_OFFSET, u8, io + 16 * m);
      const d = io2 + 16 * m;
      for (let j = 0; j < 16; j++) bodies[o + IV_OFFSET + j] = u8[d + j]!;
      if (st.code !== ROLE_OBEP) writeId(bodies, o, st.nextTunnelId);
      chunkSt[m] = null;
    }
    u8.fill(0, io, io + 16 * k);
    u8.fill(0, io2, io2 + 16 * k);
  }

  keyViews(st: Tunnel): Uint8Array[] {
    const w = this.wasm.current;
    const out: Uint8Array[] = [];
    for (const h of st.hops) {
      out.push(...h.keyMaterial());
      if (w && h.ivSlot >= 0) out.push(w.aesSlotView(h.ivSlot));
    }
    return out;
  }

  close(): void {
    this.node.close();
    this.chunkSt.fill(null);
  }
}

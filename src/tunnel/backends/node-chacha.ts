// ChaCha layer backend 'node': the per-message node:crypto layer of chacha-layer.ts with key copies per hop
// (docs/chacha-layer.md). A reference to compare the WASM backend with; node:crypto needs a cipher object per nonce.
import { TUNNEL_DATA_SIZE } from '../../constants.js';
import {
  chachaAeadOpen,
  chachaAeadSeal,
  chachaLayerForward,
  chachaLayerInverse,
  type ChaChaHopKeys,
} from '../chacha-layer.js';
import { ROLE_IBEP, ROLE_IBGW, ROLE_OBEP, ROLE_OBGW, ROLE_PARTICIPANT } from '../types.js';
import { writeId, type BatchSink, type LayerBackend, type LayerTunnel } from './backend.js';

type Tunnel = LayerTunnel<ChaChaHopKeys, Uint8Array>;

export class NodeChaChaBackend implements LayerBackend<ChaChaHopKeys, Uint8Array> {
  readonly name = 'node';
  readonly layer = 'chacha';
  /** A copy of the body being opened, restored when it turns out to be a replay. */
  private readonly saved = new Uint8Array(TUNNEL_DATA_SIZE);

  addHop(layerKey: Uint8Array, ivKey: Uint8Array): ChaChaHopKeys {
    return { layerKey: Uint8Array.from(layerKey), ivKey: Uint8Array.from(ivKey) };
  }

  addAead(key: Uint8Array): Uint8Array {
    return Uint8Array.from(key);
  }

  wipeHop(hop: ChaChaHopKeys): void {
    hop.layerKey.fill(0);
    hop.ivKey.fill(0);
  }

  wipeAead(key: Uint8Array): void {
    key.fill(0);
  }

  run(tunnels: readonly Tunnel[], bodies: Uint8Array, status: Uint8Array, sink: BatchSink): void {
    for (const st of tunnels) this.tunnel(st, bodies, status, sink);
  }

  private tunnel(st: Tunnel, bodies: Uint8Array, status: Uint8Array, sink: BatchSink): void {
    const saved = this.saved;
    for (const i of st.pending) {
      const body = bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE);
      switch (st.code) {
        case ROLE_PARTICIPANT:
        case ROLE_OBEP:
        case ROLE_IBGW: {
          if (st.inAead) {
            saved.set(body);
            if (!chachaAeadOpen(body, st.inAead)) {
              sink.badMac(status, i);
              break;
            }
            if (sink.replayed(st, i, status)) {
              body.set(saved);
              break;
            }
          }
          chachaLayerForward(body, st.hops[0]!);
          if (st.code !== ROLE_OBEP) writeId(body, 0, st.nextTunnelId);
          if (st.outAead) chachaAeadSeal(body, st.outAead);
          break;
        }
        case ROLE_IBEP: {
          saved.set(body);
          if (!chachaAeadOpen(body, st.inAead!)) {
            sink.badMac(status, i);
            break;
          }
          if (sink.replayed(st, i, status)) {
            body.set(saved);
            break;
          }
          for (let h = st.hops.length - 1; h >= 0; h--) chachaLayerInverse(body, st.hops[h]!);
          break;
        }
        case ROLE_OBGW: {
          for (let h = st.hops.length - 1; h >= 0; h--) chachaLayerInverse(body, st.hops[h]!);
          writeId(body, 0, st.nextTunnelId);
          chachaAeadSeal(body, st.outAead!);
          break;
        }
      }
    }
  }

  keyViews(st: Tunnel): Uint8Array[] {
    const out = st.hops.flatMap((h) => [h.layerKey, h.ivKey]);
    if (st.inAead) out.push(st.inAead);
    if (st.outAead) out.push(st.outAead);
    return out;
  }

  close(): void {
    this.saved.fill(0);
  }
}

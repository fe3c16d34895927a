// AES layer backend 'native': the OpenSSL addon (native/aes_layer.c through aes-native.ts), one addon call per
// tunnel (per hop for creators) over all its messages of the batch, in place: no copies, no allocation
// (tunnel-crypto-aes.md §2-§4).
import { MAX_BATCH, TUNNEL_DATA_SIZE } from '../../constants.js';
import { NativeAesHop } from '../aes-native.js';
import { ROLE_IBEP, ROLE_OBEP, ROLE_OBGW } from '../types.js';
import { noAead, writeId, type HopDirection, type LayerBackend, type LayerTunnel } from './backend.js';

export class NativeAesBackend implements LayerBackend<NativeAesHop, never> {
  readonly name = 'native';
  readonly layer = 'aes';
  /** Byte offsets of one tunnel's messages in the batch. */
  private readonly at = new Int32Array(MAX_BATCH);

  addHop(layerKey: Uint8Array, ivKey: Uint8Array, direction: HopDirection): NativeAesHop {
    return new NativeAesHop(layerKey, ivKey, direction);
  }

  addAead = noAead;

  wipeHop(hop: NativeAesHop): void {
    hop.wipe();
  }

  wipeAead(): void {}

  run(tunnels: readonly LayerTunnel<NativeAesHop, never>[], bodies: Uint8Array): void {
    const at = this.at;
    for (const st of tunnels) {
      const idx = st.pending;
      const n = idx.length;
      for (let m = 0; m < n; m++) at[m] = idx[m]! * TUNNEL_DATA_SIZE;
      if (st.code === ROLE_OBGW || st.code === ROLE_IBEP) {
        for (let h = st.hops.length - 1; h >= 0; h--) st.hops[h]!.decrypt(bodies, at, n);
      } else {
        st.hops[0]!.encrypt(bodies, at, n);
      }
      if (st.code !== ROLE_OBEP && st.code !== ROLE_IBEP)
        for (let m = 0; m < n; m++) writeId(bodies, at[m]!, st.nextTunnelId);
    }
  }

  /** A native hop's keys live in OpenSSL's contexts, which free() cleanses: one byte, 1 while held, 0 once gone. */
  keyViews(st: LayerTunnel<NativeAesHop, never>): Uint8Array[] {
    return st.hops.map((h) => Uint8Array.of(h.wiped ? 0 : 1));
  }

  close(): void {
    this.at.fill(0);
  }
}

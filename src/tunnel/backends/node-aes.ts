// AES layer backend 'node': node:crypto (OpenSSL, AES-NI) through long-lived cipher objects per hop (aes-node.ts),
// one tunnel at a time (tunnel-crypto-aes.md §2-§4). Also the creators' strip of the hybrid backend.
import { TUNNEL_DATA_SIZE } from '../../constants.js';
import { NodeAesHop } from '../aes-node.js';
import { ROLE_IBEP, ROLE_OBEP, ROLE_OBGW } from '../types.js';
import { noAead, writeId, type LayerBackend, type LayerTunnel } from './backend.js';

/**
 * From this many messages of one tunnel in a batch, CBC encryption runs block by block across the messages (63 ECB
 * calls, parallel in AES-NI) instead of one CBC call per message (NodeAesHop.encryptInterleaved; docs/tunnel-layers.md).
 */
export const INTERLEAVED_CBC_MIN = 48;

export class NodeAesBackend implements LayerBackend<NodeAesHop, never> {
  readonly name = 'node';
  readonly layer = 'aes';
  /** IV blocks (n x 16) of a hop's messages; creators: their data (n x 1008). */
  private scratch = new Uint8Array(64 * 1008);

  addHop(layerKey: Uint8Array, ivKey: Uint8Array): NodeAesHop {
    return new NodeAesHop(layerKey, ivKey);
  }

  addAead = noAead;

  wipeHop(hop: NodeAesHop): void {
    hop.wipe();
  }

  wipeAead(): void {}

  run(tunnels: readonly LayerTunnel<NodeAesHop, never>[], bodies: Uint8Array): void {
    for (const st of tunnels) this.tunnel(st, bodies);
  }

  /** The tunnel's transform on its pending messages: P (participant, OBEP, IBGW) or the strip P^-1 (OBGW, IBEP). */
  tunnel(st: LayerTunnel<NodeAesHop, unknown>, bodies: Uint8Array): void {
    const idx = st.pending;
    const n = idx.length;
    const at = new Array<number>(n);
    for (let j = 0; j < n; j++) at[j] = idx[j]! * TUNNEL_DATA_SIZE;
    if (st.code === ROLE_OBGW || st.code === ROLE_IBEP) {
      if (this.scratch.length < n * 1008) this.scratch = new Uint8Array(n * 1008);
      for (let h = st.hops.length - 1; h >= 0; h--) st.hops[h]!.decrypt(bodies, at, n, this.scratch);
    } else {
      const aligned = (bodies.byteOffset & 3) === 0;
      if (n >= INTERLEAVED_CBC_MIN && aligned) {
        const words = new Int32Array(bodies.buffer, bodies.byteOffset, bodies.length >> 2);
        st.hops[0]!.encryptInterleaved(bodies, words, at, n, this.scratch);
      } else {
        st.hops[0]!.encrypt(bodies, at, n, this.scratch);
      }
    }
    if (st.code !== ROLE_OBEP && st.code !== ROLE_IBEP) for (const o of at) writeId(bodies, o, st.nextTunnelId);
  }

  keyViews(st: LayerTunnel<NodeAesHop, never>): Uint8Array[] {
    return st.hops.flatMap((h) => h.keyMaterial());
  }

  close(): void {
    this.scratch.fill(0);
  }
}

// AES layer backend 'native': the OpenSSL addon (native/aes_layer.c through aes-native.ts), in place: no copies, no
// allocation (tunnel-crypto-aes.md §2-§4). A batch's tunnels with one to MULTI_KEY_MAX_MESSAGES messages go to the
// multi-key AES-NI kernel (native/aes_multikey.c) in one call, their CBC chains interleaved; a tunnel with more keeps
// one call per tunnel (per hop for creators), whose CBC runs sideways across its messages. docs/aes.md says why.
import { MAX_BATCH, TUNNEL_DATA_SIZE } from '../../constants.js';
import { multiKeyKernel, NATIVE_DIRECTION, nativeAes, NativeAesHop, type NativeKeyringHandle } from '../aes-native.js';
import { ROLE_IBEP, ROLE_OBEP, ROLE_OBGW } from '../types.js';
import { noAead, writeId, type HopDirection, type LayerBackend, type LayerTunnel } from './backend.js';

/**
 * Tunnels with at most this many messages in a batch go to the kernel (each message is its own chain there); from
 * more on, the tunnel's CBC runs sideways across its messages with OpenSSL, which wins once there are enough of them
 * to fill the ECB calls, and where two or three would cost 63 EVP calls for little work.
 */
export const MULTI_KEY_MAX_MESSAGES = 4;

/** Hops of a creator tunnel at most (the engine's MAX_HOPS): bounds the kernel's P^-1 records per batch. */
const MAX_STRIP_HOPS = 8;

let kernelDefault = multiKeyKernel !== '';

/**
 * Whether backends made from now on use the multi-key kernel (default: wherever it runs); returns the previous
 * setting. For measurements and tests that compare both paths in one process.
 */
export function setMultiKeyDefault(on: boolean): boolean {
  const was = kernelDefault;
  kernelDefault = on && multiKeyKernel !== '';
  return was;
}

/**
 * One hop: its slot in the backend's keyring (-1 without the kernel, or once wiped) and its OpenSSL contexts, which
 * with the kernel are made only when the tunnel first has several messages in a batch (most transit tunnels never
 * do: one 480-byte slot each instead of five EVP contexts).
 */
export class NativeKernelHop {
  slot = -1;
  evp: NativeAesHop | null = null;
  constructor(readonly direction: HopDirection) {}
}

type Tunnel = LayerTunnel<NativeKernelHop, never>;

export class NativeAesBackend implements LayerBackend<NativeKernelHop, never> {
  readonly name = 'native';
  readonly layer = 'aes';
  /** Byte offsets of one tunnel's messages in the batch. */
  private readonly at = new Int32Array(MAX_BATCH);
  /** The kernel's keyring, or null when this backend does not use the kernel. */
  private ring: NativeKeyringHandle | null;
  /** The kernel's records of a batch: P (body offset, slot), and P^-1 (one per hop of a creator's message). */
  private readonly encAt = new Int32Array(MAX_BATCH);
  private readonly encSlot = new Int32Array(MAX_BATCH);
  private readonly decAt = new Int32Array(MAX_BATCH * MAX_STRIP_HOPS);
  private readonly decSlot = new Int32Array(MAX_BATCH * MAX_STRIP_HOPS);

  constructor(kernel = kernelDefault) {
    this.ring = kernel && nativeAes && multiKeyKernel !== '' ? nativeAes.createKeyring() : null;
  }

  /** True when single-message tunnels go through the multi-key kernel. */
  get usesKernel(): boolean {
    return this.ring !== null;
  }

  addHop(layerKey: Uint8Array, ivKey: Uint8Array, direction: HopDirection): NativeKernelHop {
    const hop = new NativeKernelHop(direction);
    if (this.ring) hop.slot = nativeAes!.keyringAdd(this.ring, layerKey, ivKey);
    else hop.evp = new NativeAesHop(layerKey, ivKey, direction);
    return hop;
  }

  /** The hop's OpenSSL contexts (its direction's only), made from its keyring slot on first use. */
  private evp(hop: NativeKernelHop): NativeAesHop {
    return (hop.evp ??= new NativeAesHop(
      nativeAes!.createHopFromSlot(this.ring!, hop.slot, NATIVE_DIRECTION[hop.direction]),
    ));
  }

  addAead = noAead;

  wipeHop(hop: NativeKernelHop): void {
    hop.evp?.wipe();
    if (this.ring && hop.slot >= 0) nativeAes!.keyringWipe(this.ring, hop.slot);
    hop.slot = -1;
  }

  wipeAead(): void {}

  run(tunnels: readonly Tunnel[], bodies: Uint8Array): void {
    const at = this.at;
    const ring = this.ring;
    let enc = 0;
    let dec = 0;
    for (const st of tunnels) {
      const idx = st.pending;
      const n = idx.length;
      const strip = st.code === ROLE_OBGW || st.code === ROLE_IBEP;
      if (ring !== null && n <= MULTI_KEY_MAX_MESSAGES) {
        // Queued for the kernel's one call below; the tunnel id is outside what the layer changes.
        for (let m = 0; m < n; m++) {
          const o = idx[m]! * TUNNEL_DATA_SIZE;
          if (strip) {
            for (let h = st.hops.length - 1; h >= 0; h--) {
              this.decAt[dec] = o;
              this.decSlot[dec++] = st.hops[h]!.slot;
            }
          } else {
            this.encAt[enc] = o;
            this.encSlot[enc++] = st.hops[0]!.slot;
          }
          if (st.code !== ROLE_OBEP && st.code !== ROLE_IBEP) writeId(bodies, o, st.nextTunnelId);
        }
        continue;
      }
      for (let m = 0; m < n; m++) at[m] = idx[m]! * TUNNEL_DATA_SIZE;
      if (strip) {
        for (let h = st.hops.length - 1; h >= 0; h--) this.evp(st.hops[h]!).decrypt(bodies, at, n);
      } else {
        this.evp(st.hops[0]!).encrypt(bodies, at, n);
      }
      if (st.code !== ROLE_OBEP && st.code !== ROLE_IBEP)
        for (let m = 0; m < n; m++) writeId(bodies, at[m]!, st.nextTunnelId);
    }
    if (enc > 0) nativeAes!.multiEncrypt(ring!, bodies, this.encAt, this.encSlot, enc);
    if (dec > 0) nativeAes!.multiDecrypt(ring!, bodies, this.decAt, this.decSlot, dec);
  }

  /**
   * A native hop's keys live in OpenSSL's contexts, which free() cleanses, and in its keyring slot: one byte per
   * hop, 1 while either is held, 0 once both are gone.
   */
  keyViews(st: Tunnel): Uint8Array[] {
    return st.hops.map((h) => Uint8Array.of((h.evp === null || h.evp.wiped) && h.slot < 0 ? 0 : 1));
  }

  close(): void {
    this.at.fill(0);
    this.encAt.fill(0);
    this.encSlot.fill(0);
    this.decAt.fill(0);
    this.decSlot.fill(0);
    if (this.ring) nativeAes!.keyringClose(this.ring);
    this.ring = null;
  }
}

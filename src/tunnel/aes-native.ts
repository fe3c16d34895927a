// The native AES layer (native/aes_layer.c): P and P^-1 in place over OpenSSL EVP, through Node-API. Optional: it
// is prebuilt or built at install time (scripts/install-native.mjs, src/native/); `nativeAes` is null otherwise
// and `nativeAesProblem` says why. The 'native' engine backend needs it; 'auto' uses it when it loaded and the CPU
// has AES instructions (OpenSSL's AES is constant time there; see cpuHasAes in src/crypto/aes.ts).
import { AES256_KEY_SIZE } from '../constants.js';
import {
  NATIVE_DIRECTION,
  nativeAes,
  nativeAesProblem,
  type NativeAesBinding,
  type NativeHopHandle,
} from '../native/addon.js';

export {
  copyPrefix,
  nativeAes,
  nativeAesPath,
  nativeAesProblem,
  NATIVE_DIRECTION,
  NATIVE_SIDEWAYS_MIN,
  type NativeAesBinding,
  type NativeAesFailure,
  type NativeHopHandle,
  type NativeKeyringHandle,
} from '../native/addon.js';

/**
/**
 * The multi-key kernel (native/aes_multikey.c) this process uses: 'aesni' where the addon loaded and the CPU has
 * AES-NI, '' otherwise or when TUNNELPLANE_NO_MULTIKEY=1 (then every tunnel takes the OpenSSL path).
 */
export const multiKeyKernel: string =
  nativeAes && process.env.TUNNELPLANE_NO_MULTIKEY !== '1' ? nativeAes.multiKeyKernel() : '';

/**
 * One hop's keys in OpenSSL contexts. `wipe()` frees and cleanses them; the object is unusable afterwards. Made for
 * one direction (`encrypt`: P only, `decrypt`: P^-1 only) it holds that direction's contexts alone.
 */
export class NativeAesHop {
  private handle: NativeHopHandle | null;
  private readonly lib: NativeAesBinding;

  /** From the two keys (contexts for `direction` only), or taking over a handle the addon made (createHopFromSlot). */
  constructor(layerKey: Uint8Array, ivKey: Uint8Array, direction?: keyof typeof NATIVE_DIRECTION);
  constructor(handle: NativeHopHandle);
  constructor(
    layerKey: Uint8Array | NativeHopHandle,
    ivKey?: Uint8Array,
    direction: keyof typeof NATIVE_DIRECTION = 'both',
  ) {
    if (!nativeAes) throw new Error(`native AES layer unavailable: ${nativeAesProblem}`);
    this.lib = nativeAes;
    if (!(layerKey instanceof Uint8Array)) {
      this.handle = layerKey;
      return;
    }
    if (layerKey.length !== AES256_KEY_SIZE || ivKey?.length !== AES256_KEY_SIZE)
      throw new RangeError('keys must be 32 bytes');
    this.handle = nativeAes.createHop(layerKey, ivKey, NATIVE_DIRECTION[direction]);
  }

  /** P in place on the bodies at byte offsets at[0..n). */
  encrypt(bodies: Uint8Array, at: Int32Array, n: number): void {
    this.lib.encrypt(this.live(), bodies, at, n);
  }

  /** P^-1 in place on the bodies at byte offsets at[0..n). */
  decrypt(bodies: Uint8Array, at: Int32Array, n: number): void {
    this.lib.decrypt(this.live(), bodies, at, n);
  }

  /** See NativeAesBinding.setSidewaysMin. */
  setSidewaysMin(n: number): void {
    this.lib.setSidewaysMin(this.live(), n);
  }

  get wiped(): boolean {
    return this.handle === null;
  }

  wipe(): void {
    if (this.handle) this.lib.wipeHop(this.handle);
    this.handle = null;
  }

  private live(): NativeHopHandle {
    if (!this.handle) throw new Error('this hop was wiped');
    return this.handle;
  }
}

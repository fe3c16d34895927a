// The native addon (native/aes_layer.c) as the rest of the code sees it: its binding, loaded once per thread from
// the binary locate.ts finds (compiled here or prebuilt), or null with the reason. Below both the tunnel layer (its
// AES hops) and the data plane (its slot copies), so neither reaches into the other for it.
import { createRequire } from 'node:module';
import { locateNativeAddon } from './locate.js';

/** Opaque handle of one hop's OpenSSL contexts (a Node-API external). */
export type NativeHopHandle = { readonly __nativeHop: unique symbol };

/** Opaque handle of a keyring of the multi-key kernel (a Node-API external). */
export type NativeKeyringHandle = { readonly __nativeKeyring: unique symbol };

export interface NativeAesBinding {
  /**
   * A hop's OpenSSL contexts; the keys are read once and not kept anywhere else. `direction` (NATIVE_DIRECTION):
   * both transforms (default), or only encrypt or only decrypt, with only that direction's contexts (the other
   * call then throws TypeError).
   */
  createHop(layerKey: Uint8Array, ivKey: Uint8Array, direction?: number): NativeHopHandle;
  /** Frees the hop's contexts now (OpenSSL cleanses the key schedules); later calls with it throw. */
  wipeHop(hop: NativeHopHandle): void;
  /**
   * P in place on the bodies at byte offsets at[0..n) of `bodies` (each 1028 bytes; bytes 0..3 untouched). Throws
   * TypeError/RangeError on bad arguments (nothing touched), or a NativeAesFailure when OpenSSL fails.
   */
  encrypt(hop: NativeHopHandle, bodies: Uint8Array, at: Int32Array, n: number): void;
  /** P^-1 in place, likewise. */
  decrypt(hop: NativeHopHandle, bodies: Uint8Array, at: Int32Array, n: number): void;
  /**
   * From how many of this hop's messages in an `encrypt` call the CBC step runs sideways (block j of every message
   * in one ECB call) instead of one CBC call per message; default 2. Per hop; for tests and measurements.
   */
  setSidewaysMin(hop: NativeHopHandle, n: number): void;
  /**
   * For i in [from, to): `size` bytes from src[srcAt[i]] to dst[dstAt[i]] (memmove; bounds-checked, throws
   * RangeError). A plain memcpy where V8 copies SharedArrayBuffer memory with atomic stores, a byte at a time when
   * the two addresses differ modulo 8: the data plane's copies into and out of its shared batch slots.
   */
  /** The multi-key kernel this CPU runs ('aesni'), or '' where it does not (createKeyring then throws). */
  multiKeyKernel(): string;
  /** Messages (multiEncrypt) and hop records (multiDecrypt) through the kernel on this thread so far. */
  multiKeyCount(): number;
  /** A keyring: hop keys expanded once into fixed slots (at most 65536), wiped one by one or all at close. */
  createKeyring(): NativeKeyringHandle;
  /** Expands the two keys into a free slot and returns its number; RangeError when the ring is full. */
  keyringAdd(ring: NativeKeyringHandle, layerKey: Uint8Array, ivKey: Uint8Array): number;
  /**
   * OpenSSL contexts (a hop handle, as createHop) for the keys of a keyring slot: a hop that so far used only the
   * kernel gets them when it first has several messages in a batch. RangeError for a slot not in use.
   */
  createHopFromSlot(ring: NativeKeyringHandle, slot: number, direction?: number): NativeHopHandle;
  /** Wipes the slot's round keys and frees it (a slot not in use: nothing). */
  keyringWipe(ring: NativeKeyringHandle, slot: number): void;
  /** Wipes every slot and frees the ring now; later calls with it throw. Idempotent. */
  keyringClose(ring: NativeKeyringHandle): void;
  /**
   * P in place on the n bodies at byte offsets at[i], each with the keys of slots[i], several tunnels' CBC chains
   * interleaved (the bodies must not overlap). Throws TypeError/RangeError on bad arguments, a slot not in use
   * included (nothing touched); never fails otherwise.
   */
  multiEncrypt(ring: NativeKeyringHandle, bodies: Uint8Array, at: Int32Array, slots: Int32Array, n: number): void;
  /** P^-1 in place on the n (at[i], slots[i]) records in order: a creator strip lists a body per hop, last first. */
  multiDecrypt(ring: NativeKeyringHandle, bodies: Uint8Array, at: Int32Array, slots: Int32Array, n: number): void;
  copyBlocks(
    dst: Uint8Array,
    dstAt: Uint32Array,
    src: Uint8Array,
    srcAt: Uint32Array,
    from: number,
    to: number,
    size: number,
  ): void;
}

/**
 * What encrypt / decrypt throw when an OpenSSL call fails: bodies at[0..completed) were transformed, the rest are
 * untouched. After a failed CBC step the hop refuses further use (its chain value is unknown).
 */
export interface NativeAesFailure extends Error {
  readonly completed: number;
}

/** createHop's `direction` codes. */
export const NATIVE_DIRECTION = { both: 0, encrypt: 1, decrypt: 2 } as const;

/** The addon's default for setSidewaysMin. */
export const NATIVE_SIDEWAYS_MIN = 2;

function load(): { binding: NativeAesBinding | null; problem: string | undefined; path?: string } {
  if (process.env.TUNNELPLANE_NO_NATIVE === '1')
    return { binding: null, problem: 'disabled by TUNNELPLANE_NO_NATIVE=1' };
  // Compiled here or prebuilt for this platform (locate.ts).
  const found = locateNativeAddon();
  if (!found.ok) return { binding: null, problem: found.error };
  const path = found.path;
  try {
    return { binding: createRequire(import.meta.url)(path) as NativeAesBinding, problem: undefined, path };
  } catch (e) {
    return { binding: null, problem: `${path} did not load: ${e instanceof Error ? e.message : String(e)}` };
  }
}

const loaded = load();
/** The addon, or null when it is not available. */
export const nativeAes: NativeAesBinding | null = loaded.binding;
/** Why `nativeAes` is null (undefined when it loaded). */
export const nativeAesProblem: string | undefined = loaded.problem;
/** The file the addon was loaded from (undefined when it did not load). */
export const nativeAesPath: string | undefined = loaded.path;

const AT_ZERO = new Uint32Array(1);

/**
 * dst[0, length) = src[0, length): one memcpy through the addon when it is loaded (V8's copies of shared memory
 * are atomic, byte by byte where the addresses differ modulo 8), else TypedArray set().
 */
export function copyPrefix(dst: Uint8Array, src: Uint8Array, length: number): void {
  if (nativeAes) nativeAes.copyBlocks(dst, AT_ZERO, src, AT_ZERO, 0, 1, length);
  else dst.set(src.subarray(0, length));
}

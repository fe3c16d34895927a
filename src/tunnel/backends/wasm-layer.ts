// The WASM instance of one layer engine, shared by its WASM AES, WASM ChaCha and hybrid backends: private to the
// engine (own key slots, own message region), key slot allocation, and the calls into assembly/layer.ts
// (aesLayerBatch, chachaLayerBatch, aesEcbIoTwice, cbcSidewaysStep).
import {
  AES_KEY_SLOTS,
  AES_SLOT_SIZE,
  CHACHA_KEY_SLOTS,
  CHACHA_SLOT_SIZE,
  MAX_BATCH,
  TUNNEL_DATA_SIZE,
} from '../../constants.js';
import { createInstance, type WasmFlavor, type WasmInstance } from '../../wasm/loader.js';

type Fn = (...args: number[]) => number;

export const MODE_OPEN = 1;
export const MODE_FORWARD = 2;
export const MODE_INVERSE = 4;
export const MODE_SET_ID = 8;
export const MODE_SEAL = 16;

class SlotPool {
  private readonly free: number[] = [];
  constructor(
    readonly size: number,
    readonly what: string,
  ) {
    for (let i = size - 1; i >= 0; i--) this.free.push(i);
  }
  take(): number {
    const s = this.free.pop();
    if (s === undefined) throw new RangeError(`out of ${this.what} key slots (${this.size} per engine)`);
    return s;
  }
  give(slot: number): void {
    this.free.push(slot);
  }
  get available(): number {
    return this.free.length;
  }
}

export class WasmLayer {
  readonly inst: WasmInstance;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly msg: number;
  readonly slotA: number;
  readonly slotB: number;
  readonly param: number;
  readonly status: number;
  private readonly keyIn: number;
  private readonly aesPool = new SlotPool(AES_KEY_SLOTS, 'AES');
  private readonly chachaPool = new SlotPool(CHACHA_KEY_SLOTS, 'ChaCha');
  private readonly fn: Record<string, Fn>;

  constructor(flavor?: WasmFlavor) {
    this.inst = createInstance({ flavor });
    const r = this.inst.regions;
    this.u8 = this.inst.u8;
    this.u32 = this.inst.u32;
    this.msg = r.MSG;
    this.slotA = r.MSG_SLOT_A;
    this.slotB = r.MSG_SLOT_B;
    this.param = r.MSG_PARAM;
    this.status = r.MSG_STATUS;
    this.keyIn = r.KEY_IN;
    const e = this.inst.exports;
    this.fn = {};
    for (const name of [
      'aesEcbIoTwice',
      'aesLayerBatch',
      'cbcSidewaysStep',
      'chachaLayerBatch',
      'aesSetKeys',
      'aesClearSlots',
      'aesSlotPtr',
      'chachaSetKeys',
      'chachaClearKeys',
      'chachaSlotPtr',
    ]) {
      const f = e[name];
      if (typeof f !== 'function')
        throw new Error(`tunnelplane: WASM export ${name} missing (rebuild with npm run build:wasm)`);
      this.fn[name] = f as Fn;
    }
  }

  /** Expands a 32-byte AES key into a fresh slot. */
  aesKey(key: Uint8Array): number {
    const slot = this.aesPool.take();
    this.u8.set(key, this.keyIn);
    this.u32[this.slotA >> 2] = slot;
    if (this.fn.aesSetKeys!(1) !== 0) throw new Error('aesSetKeys failed');
    return slot;
  }

  aesFree(slot: number): void {
    this.u32[this.slotA >> 2] = slot;
    this.fn.aesClearSlots!(1);
    this.aesPool.give(slot);
  }

  chachaKey(key: Uint8Array): number {
    const slot = this.chachaPool.take();
    this.u8.set(key, this.keyIn);
    this.u32[this.slotA >> 2] = slot;
    if (this.fn.chachaSetKeys!(1) !== 1) throw new Error('chachaSetKeys failed');
    return slot;
  }

  chachaFree(slot: number): void {
    this.u32[this.slotA >> 2] = slot;
    this.fn.chachaClearKeys!(1);
    this.chachaPool.give(slot);
  }

  /** Free key slots of each kind. */
  freeSlots(): { aes: number; chacha: number } {
    return { aes: this.aesPool.available, chacha: this.chachaPool.available };
  }

  /**
   * Zeroes the whole instance memory: every key slot, the KEY_IN staging area and the kernels' work areas (the
   * instance is private to one engine). The layer is unusable afterwards.
   */
  wipeMemory(): void {
    new Uint8Array(this.inst.memory.buffer).fill(0);
  }

  /** Live view of an AES slot's key material (tests). */
  aesSlotView(slot: number): Uint8Array {
    const p = this.fn.aesSlotPtr!(slot) >>> 0;
    return this.u8.subarray(p, p + AES_SLOT_SIZE);
  }

  chachaSlotView(slot: number): Uint8Array {
    const p = this.fn.chachaSlotPtr!(slot) >>> 0;
    return this.u8.subarray(p, p + CHACHA_SLOT_SIZE);
  }

  /** Copies bodies i..i+n-1 of `bodies` into message slots k..k+n-1 (one copy). */
  put(k: number, bodies: Uint8Array, i: number, n = 1): void {
    this.u8.set(bodies.subarray(i * TUNNEL_DATA_SIZE, (i + n) * TUNNEL_DATA_SIZE), this.msg + k * TUNNEL_DATA_SIZE);
  }

  /** Copies message slots k..k+n-1 back into bodies i..i+n-1 (one copy). */
  get(k: number, bodies: Uint8Array, i: number, n = 1): void {
    const o = this.msg + k * TUNNEL_DATA_SIZE;
    bodies.set(this.u8.subarray(o, o + n * TUNNEL_DATA_SIZE), i * TUNNEL_DATA_SIZE);
  }

  setSlots(k: number, a: number, b: number): void {
    this.u32[(this.slotA >> 2) + k] = a;
    this.u32[(this.slotB >> 2) + k] = b;
  }

  /** P (decrypt = false) or P^-1 of one hop on message slots 0..n-1. */
  aesBatch(n: number, decrypt: boolean): void {
    if (n > MAX_BATCH) throw new RangeError('batch too large');
    const r = this.fn.aesLayerBatch!(n, decrypt ? 1 : 0);
    if (r !== n) throw new Error(`aesLayerBatch returned ${r}`);
  }

  /** One scatter / gather step of CBC run sideways over message slots 0..n-1 (assembly/layer.ts cbcSidewaysStep). */
  readonly sidewaysStep = (n: number, j: number): void => {
    const r = this.fn.cbcSidewaysStep!(n, j);
    if (r !== n) throw new Error(`cbcSidewaysStep returned ${r}`);
  };

  /** IO region offset (the hybrid backend stages IV blocks there). */
  get io(): number {
    return this.inst.regions.IO;
  }

  /**
   * Both IV steps of the AES layer for blocks IO[16k..16k+16), block k with AES slot MSG_SLOT_A[k]: X = E(IV) in
   * place and E(X) at ioTwice + 16k.
   */
  ecbIoTwice(n: number): void {
    const r = this.fn.aesEcbIoTwice!(n);
    if (r !== 0) throw new Error(`aesEcbIoTwice returned ${r}`);
  }

  /** Where ecbIoTwice leaves the second encryption. */
  get ioTwice(): number {
    return this.inst.regions.IO + 16 * MAX_BATCH;
  }

  /** ChaCha params of message slot k: AEAD slots and next tunnel id; status reset to OK. */
  setChacha(k: number, inSlot: number, outSlot: number, nextTunnelId: number): void {
    const p = (this.param >> 2) + k * 4;
    this.u32[p] = inSlot;
    this.u32[p + 1] = outSlot;
    this.u32[p + 2] = nextTunnelId;
  }

  clearStatus(n: number): void {
    this.u8.fill(0, this.status, this.status + n);
  }

  chachaBatch(n: number, mode: number): void {
    const r = this.fn.chachaLayerBatch!(n, mode);
    if (r < 0) throw new Error(`chachaLayerBatch returned ${r}`);
  }

  statusOf(k: number): number {
    return this.u8[this.status + k]!;
  }
}

/** The engine's WasmLayer, made on first use (an engine with no WASM-backed tunnel never instantiates one). */
export class WasmHost {
  private layer: WasmLayer | null = null;

  constructor(private readonly flavor?: WasmFlavor) {}

  get(): WasmLayer {
    return this.layer ?? (this.layer = new WasmLayer(this.flavor));
  }

  /** The instance if one was made. */
  get current(): WasmLayer | null {
    return this.layer;
  }

  /** Zeroes the whole instance memory and drops it (WasmLayer.wipeMemory). */
  wipe(): void {
    this.layer?.wipeMemory();
    this.layer = null;
  }
}

/** A hop's two keys in WASM key slots (AES or ChaCha pool by backend); -1 once released. */
export class WasmHop {
  constructor(
    public layerSlot: number,
    public ivSlot: number,
  ) {}
}

/** A ChaCha AEAD key in a WASM key slot; -1 once released. */
export class WasmKeySlot {
  constructor(public slot: number) {}
}

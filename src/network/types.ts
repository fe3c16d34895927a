// The shapes `tunnelplane network` deals in (docs/network.md): its options, the events of the live view and the
// summary line, shared by the mode with our routers alone and the mode with i2pd routers.
import type { DataPlaneOptions } from '../dataplane/index.js';
import type { TrafficSnapshot } from './traffic.js';
import type { RouterRow } from './view.js';
import type { StreamingReport } from './streaming.js';

export interface I2pdPortBases {
  i2cp: number;
  http: number;
  transport: number;
}

export interface NetworkOptions {
  routers: number;
  /** i2pd routers (0: our routers alone). */
  i2pd: number;
  messages: number;
  /** Spread the traffic over this long (default: as fast as the window allows). */
  durationMs?: number;
  hops?: number;
  /** Live view sample period (default 1 s). */
  intervalMs?: number;
  /** Bounded wait for the first tunnels (default 60 s). */
  readyTimeoutMs?: number;
  /** Per-message timeout (default 20 s). */
  timeoutMs?: number;
  window?: number;
  seed?: number;
  /** Stop router `index` (never router 0, the first floodfill) just before message `atMessage` is sent. */
  kill?: { index: number; atMessage: number };
  dataPlane?: Omit<DataPlaneOptions, 'onOutput'>;
  testIntervalMs?: number;
  baseDir?: string;
  signal?: AbortSignal;
  /**
   * First I2CP, HTTP console and NTCP2 ports of the i2pd routers (router k gets base + k); default: free ones picked
   * at random. Tests pass fixed ones so that a router of another test starting later cannot take them.
   */
  i2pdPorts?: I2pdPortBases;
  /** With i2pd: also send this many bytes through i2pd's streaming (client tunnel on A, echo server behind B). */
  streamingBytes?: number;
  /** Receives every event: 'ready', 'tunnels', 'stats' (one per interval), 'kill', 'warning'. */
  onEvent?: (e: NetworkEvent) => void;
}

export type NetworkEvent =
  | { event: 'ready'; router: number; ident: string; floodfill: boolean; ntcp2: string; dataDir: string }
  | { event: 'tunnels'; ms: number; hops: number; perRouter: { inbound: number; outbound: number }[] }
  | { event: 'stats'; t: number; phase: string; routers: RouterRow[]; traffic?: TrafficSnapshot }
  | { event: 'kill'; router: number; ident: string; atMessage: number; t: number }
  | { event: 'warning'; message: string };

export interface KillReport {
  router: number;
  /** When it was stopped, ms after the traffic began. */
  atMs: number;
  /** Messages sent after the kill that were lost (their paths went through it until the pools rebuilt). */
  lostAfter: number;
  /** From the kill until delivery was back for good: the later of the last lost send and the end of the pause. */
  gapMs: number;
  /** The longest pause between two deliveries (or the kill and the first delivery) after the kill. */
  pauseMs: number;
  /** Delivered / sent among the messages sent after that pause ended. */
  deliveredAfterGap: number;
  sentAfterGap: number;
  /** Messages to or from the killed router in flight when it went: not counted as sent. */
  forgotten: number;
}

export interface NetworkSummary {
  event: 'summary';
  sent: number;
  delivered: number;
  corrupted: number;
  lost: number;
  latencyMsP50: number;
  latencyMsP99: number;
  messagesPerSecond: number;
  hopsOurs: boolean;
  mode: 'ours' | 'i2pd';
  routers: number;
  i2pd: number;
  hops: number;
  seed: number;
  bytesDelivered: number;
  elapsedMs: number;
  /** Tunnel messages (TunnelData out of the data planes) per router during the traffic. */
  forwarded: number[];
  /** Process CPU per forwarded tunnel message, µs: all routers are in this process, so their sum plus the generator. */
  cpuUsPerForwarded: number;
  kill?: KillReport;
  /** With i2pd and streamingBytes: i2pd's own streaming, A's client tunnel to B's server tunnel and its echo. */
  streaming?: StreamingReport;
  /** With i2pd: the hops (4 Base64 characters each) of both i2pd routers' client tunnels, from their consoles. */
  i2pdTunnelHops?: string[][];
  ok: boolean;
}

/** Thrown when --i2pd is asked for but cannot run here; the message says why. */
export class I2pdUnavailableError extends Error {
  override name = 'I2pdUnavailableError';
}

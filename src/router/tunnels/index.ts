// The tunnel side of a router (docs/tunnels.md): transit hops, our creator, pools, and the facade that wires them.
export type { TunnelNet, TunnelPlane, LocalI2np, OutgoingI2np, ReasonCounts } from './types.js';
export * from './transit.js';
export * from './creator.js';
export * from './pool.js';
export * from './service.js';

// Errors a caller can act on, in one place. Input validation uses the built-in TypeError / RangeError.

/** An AEAD tag did not verify: the ciphertext, nonce, key or associated data is not what was sealed. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  constructor(message = 'authentication tag mismatch') {
    super(message);
  }
}

/** A message is too large for a tunnel (more than 64 fragments / 62 708 bytes). */
export class MessageTooLargeError extends RangeError {
  override name = 'MessageTooLargeError';
}

/** A LayerEngine was used after close(): its keys are gone, so it refuses work. */
export class EngineClosedError extends Error {
  override name = 'EngineClosedError';
  constructor(message = 'layer engine is closed') {
    super(message);
  }
}

/**
 * A tunnel the data plane accepted could not be joined by its worker's engine (e.g. no free WASM key slot): its
 * traffic is dropped as unknownTunnel, and the data plane no longer counts it as live. Emitted as 'error'.
 */
export class TunnelJoinError extends Error {
  override name = 'TunnelJoinError';
  constructor(
    readonly tunnelId: number,
    readonly gateway: boolean,
    readonly shard: number,
    reason: string,
  ) {
    super(`tunnel ${tunnelId}${gateway ? ' (gateway)' : ''} could not be joined on worker ${shard}: ${reason}`);
  }
}

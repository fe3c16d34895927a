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

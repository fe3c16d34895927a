// Constants shared by the AssemblyScript (assembly/) and TypeScript (src/) compilers.
// Keep this file to plain `export const NAME = <integer expression>;` lines: AssemblyScript infers i32 for them,
// TypeScript infers number. Each cites the spec section it comes from (../shared/spec/*.md digests).

// --- TunnelData body (tunnel-message.md §1, §2; i2np.md §4.1) ---
/** Size of a TunnelData body: tunnelId(4) | IV(16) | encrypted data(1008). */
export const TUNNEL_DATA_SIZE = 1028;
/** Size of the tunnel id at the front of the body, never encrypted. */
export const TUNNEL_ID_SIZE = 4;
/** Offset of the IV in the body. */
export const IV_OFFSET = 4;
/** Size of the IV. */
export const IV_SIZE = 16;
/** Offset of the encrypted data (63 AES blocks) in the body. */
export const DATA_OFFSET = 20;
/** Size of the layer-encrypted data area (63 AES blocks, tunnel-crypto-aes.md §1). */
export const DATA_SIZE = 1008;
/** IV + data: the 1024 bytes a hop transforms (tunnel-crypto-aes.md §1). */
export const LAYER_SIZE = 1024;
/** Offset of the 4-byte checksum in the plaintext body (tunnel-message.md §2). */
export const CHECKSUM_OFFSET = 20;
/** Size of the checksum. */
export const CHECKSUM_SIZE = 4;
/** First byte after the checksum: padding (nonzero) then the 0x00 separator (tunnel-message.md §2). */
export const PADDING_OFFSET = 24;
/** Capacity of the {instructions, fragment} pairs area: 1008 - 4 - 1 (tunnel-message.md §4). */
export const PAIRS_MAX = 1003;
/** Largest follow-on fragment: 1003 - 7 (tunnel-message.md §4). */
export const FOLLOW_ON_MAX = 996;
/** Size of follow-on fragment instructions (tunnel-message.md §3.2). */
export const FOLLOW_ON_INSTR_SIZE = 7;
/** Largest I2NP message (header included) sent through a tunnel (tunnel-message.md §4). */
export const I2NP_TUNNEL_MAX = 62708;
/** Fragment numbers are 6 bits: fragment 0 plus follow-ons 1..63 (tunnel-message.md §4). */
export const MAX_FRAGMENTS = 64;
/** I2NP standard header size (i2np.md §1). */
export const I2NP_HEADER_SIZE = 16;
/** Size of a router / gateway hash in delivery instructions (i2np.md §6). */
export const HASH_SIZE = 32;
/** Delivery type LOCAL in tunnel delivery instructions, flag bits 6..5 (tunnel-message.md §3.1). */
export const DELIVERY_LOCAL = 0;
/** Delivery type TUNNEL (tunnel-message.md §3.1). */
export const DELIVERY_TUNNEL = 1;
/** Delivery type ROUTER (tunnel-message.md §3.1). */
export const DELIVERY_ROUTER = 2;
/** First-fragment flag bit 3: fragmented, a 4-byte message id follows (tunnel-message.md §3.1). */
export const FLAG_FRAGMENTED = 0x08;
/** First-fragment flag bits 4, 2, 1, 0: delay, extended options, reserved -- must be 0 (tunnel-message.md §3.1). */
export const FLAG_UNIMPLEMENTED_MASK = 0x17;
/** Flag bit 7: follow-on fragment (tunnel-message.md §3.2). */
export const FLAG_FOLLOW_ON = 0x80;
/** I2NP message types used by the data plane (i2np.md §3). */
export const I2NP_DELIVERY_STATUS = 10;
export const I2NP_TUNNEL_DATA = 18;
export const I2NP_TUNNEL_GATEWAY = 19;
export const I2NP_DATA = 20;
/** Default I2NP expiration for messages we create: i2pd's I2NP_MESSAGE_EXPIRATION_TIMEOUT (i2np.md §1). */
export const I2NP_EXPIRATION_MS = 8000;

// --- Primitives ---
export const AES_BLOCK_SIZE = 16;
export const AES256_KEY_SIZE = 32;
export const CHACHA_KEY_SIZE = 32;
export const CHACHA_NONCE_SIZE = 12;
export const POLY1305_TAG_SIZE = 16;
export const SHA256_SIZE = 32;

// --- Hot-path capacities (fixed WASM memory regions, assembly/layout.ts) ---
/** Most messages one kernel call processes. */
export const MAX_BATCH = 1024;
/** AES-256 key slots per WASM instance (a tunnel hop uses two: layerKey and ivKey). */
export const AES_KEY_SLOTS = 8192;
/** Bytes reserved per AES key slot: the 240-byte AES-256 round keys (format private to assembly/aes.ts). */
export const AES_SLOT_SIZE = 256;
/** ChaCha20 key slots per WASM instance. */
export const CHACHA_KEY_SLOTS = 8192;
/** Bytes per ChaCha20 key slot (the raw 32-byte key). */
export const CHACHA_SLOT_SIZE = 32;
/** Size of the general-purpose I/O region used by the primitive-level API (one-shot buffers). */
export const IO_SIZE = 1114112;

// --- Per-message status codes written by batch kernels and the tunnel layer (one byte per message) ---
export const STATUS_OK = 0;
export const STATUS_UNKNOWN_TUNNEL = 1;
export const STATUS_EXPIRED_TUNNEL = 2;
export const STATUS_REPLAY = 3;
export const STATUS_WRONG_PREV_HOP = 4;
export const STATUS_BAD_LENGTH = 5;
export const STATUS_BAD_MAC = 6;
export const STATUS_WRONG_ROLE = 7;
/** The replay filter could not record the message's entry (its bucket is full): dropped, never passed (tunnel-crypto-aes.md §5). */
export const STATUS_REPLAY_FULL = 8;

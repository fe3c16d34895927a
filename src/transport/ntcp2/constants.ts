// NTCP2 wire sizes, limits and timeouts (ntcp2-routerinfo.md §4, §5; i2pd 2.45.1 values where it is stricter than
// the spec). Local to the transport until the AssemblyScript side needs them (then they move to src/constants.ts).

/** Network ID of the live I2P network (§2.3, §4.3). */
export const NETID_MAIN = 2;
/** NTCP2 protocol version carried in msg1 options (§4.3). */
export const NTCP2_VERSION = 2;

/** msg1 / msg2 fixed part: obfuscated ephemeral key (32) + sealed 16-byte options (32) (§4.3, §4.4). */
export const MSG12_FIXED = 64;
/** Size of the options block in msg1 and msg2. */
export const OPTIONS_SIZE = 16;
/** Largest msg1/msg2 padding i2pd 2.45.1 accepts (§0.2, §4.3): 64 + 223 = 287 bytes. */
export const I2PD_MAX_HANDSHAKE_PADDING = 223;
/** msg3 part 1: the sealed 32-byte static key (§4.5). */
export const MSG3_PART1 = 48;
/** msg3 part 2 limits, tag included (§4.5, §4.7): at least the tag, at most 65471 + 16. */
export const MSG3_PART2_MIN = 16;
export const MSG3_PART2_MAX = 65487;

/** AEAD tag size (ChaCha20-Poly1305). */
export const TAG_SIZE = 16;
/** Data frame, after the 2-byte obfuscated length: 16..65535 bytes incl. the tag (§4.7, §5.1). */
export const FRAME_MIN = 16;
export const FRAME_MAX = 65535;
/** Largest frame plaintext (§4.7). */
export const FRAME_PLAINTEXT_MAX = FRAME_MAX - TAG_SIZE;
/** Block header: type(1) | size(2) (§5.2). */
export const BLOCK_HEADER = 3;
/** I2NP block short header: type(1) | msg_id(4) | expiration seconds(4) (i2np.md §2). */
export const I2NP_SHORT_HEADER = 9;
/** i2pd drops (does not close on) an I2NP block larger than this (§4.7). */
export const I2NP_BLOCK_MAX = 62708;
/** i2pd's RouterInfo size limit (§2.1, §3.1). */
export const ROUTER_INFO_MAX = 3072;

/** Clock skew allowed on handshake timestamps, seconds, inclusive (§4.8). */
export const CLOCK_SKEW_S = 60;
/** i2pd rejects Alice's RouterInfo in msg3 if older than this (§3.2). */
export const RI_MAX_AGE_MS = 90 * 60 * 1000;
/** A RouterInfo dated further ahead than this is rejected (§3.2). */
export const RI_MAX_FUTURE_MS = 2 * 60 * 1000;

/** Block types (§5.2). */
export const BLOCK_DATETIME = 0;
export const BLOCK_OPTIONS = 1;
export const BLOCK_ROUTERINFO = 2;
export const BLOCK_I2NP = 3;
export const BLOCK_TERMINATION = 4;
export const BLOCK_PADDING = 254;

/** Termination reasons (§5.2). */
export const TERM_NORMAL = 0;
export const TERM_RECEIVED = 1;
export const TERM_IDLE_TIMEOUT = 2;
export const TERM_ROUTER_SHUTDOWN = 3;
export const TERM_DATA_AEAD_FAILURE = 4;
export const TERM_INCOMPATIBLE_OPTIONS = 5;
export const TERM_INCOMPATIBLE_SIGTYPE = 6;
export const TERM_CLOCK_SKEW = 7;
export const TERM_PADDING_VIOLATION = 8;
export const TERM_AEAD_FRAMING_ERROR = 9;
export const TERM_PAYLOAD_FORMAT_ERROR = 10;
export const TERM_MSG1_ERROR = 11;
export const TERM_MSG2_ERROR = 12;
export const TERM_MSG3_ERROR = 13;
export const TERM_INTRA_FRAME_TIMEOUT = 14;
export const TERM_RI_SIGNATURE_FAILURE = 15;
export const TERM_STATIC_KEY_MISMATCH = 16;
export const TERM_BANNED = 17;

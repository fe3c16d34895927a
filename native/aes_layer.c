// The AES tunnel layer (tunnel-crypto-aes.md §2) over OpenSSL's EVP interface, for the 'native' engine backend.
//
// Why native: node:crypto's Cipher.update() costs about 1.6 us of binding work per call and returns a fresh Buffer
// whose memory V8 frees on a helper thread, so the CBC step of a hop cost 3.4 us through it against 1.25 us here.
// Everything happens in the caller's memory (ordinary or shared): no JavaScript allocation per message.
//
// The OpenSSL is the one Node.js itself links (its headers ship with Node's; its symbols are exported by the node
// binary), so EVP picks the same AES code node:crypto uses. That code is constant time only where the CPU has AES
// instructions (AES-NI, ARMv8 AES) or OpenSSL's vector-permutation AES runs; elsewhere OpenSSL may fall back to
// table-based AES, so the engine's 'auto' backend takes the bitsliced WASM AES on such CPUs (src/tunnel/engine.ts).
//
// One hop holds up to five long-lived EVP contexts: ECB with the IV key (encrypt and decrypt), CBC with the layer key
// (encrypt and decrypt) and ECB with the layer key. A hop made for one direction (createHop's third argument) holds
// only that direction's: P needs ECB-E(ivKey), CBC-E and ECB-E(layerKey), P^-1 ECB-D(ivKey) and CBC-D -- a transit
// hop only ever runs P, and each context is several hundred bytes of key schedule and provider state. CBC contexts chain across calls; instead of resetting the IV
// per message, the first block is corrected with the chain value the context holds (the last ciphertext block it
// saw):
//   P:    block1 ^= X ^ chain before the update (the context then starts the message with IV X)
//   P^-1: block1 ^= chain ^ X after the update
//
// Arguments may be views of shared memory that other threads write while a call runs: every offset is read once
// into a private copy before it is checked, and each body is transformed in private scratch memory and written back
// only once every EVP call for it succeeded.
#ifdef TUNNELPLANE_TEST_HOOKS
#define _GNU_SOURCE  // memmem, pread: the test build's memory scan
#endif
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "aes_multikey.h"

/** Body layout (tunnel-crypto-aes.md §1): tunnel id, IV, data; SPAN is what the layer changes (IV and data). */
enum { BODY = 1028, IV_AT = 4, DATA_AT = 20, DATA = 1008, SPAN = BODY - IV_AT, KEY = 32 };

/** A hop's default for how many of its messages in one `encrypt` call make P run sideways (see encrypt_sideways). */
enum { SIDEWAYS_MIN = 2 };

/** Offsets copied on the stack up to this many (MAX_BATCH in src/constants.ts); larger calls take the heap. */
enum { STACK_OFFSETS = 1024 };

/** Tags our hop externals, so an external of another kind (another addon's, another build's) is refused. */
static const napi_type_tag HOP_TAG = {0x9f3c2a51d7e04b86ULL, 0x41e5c0b2a8d3f719ULL};

typedef struct {
  EVP_CIPHER_CTX *ecb_enc, *ecb_dec, *cbc_enc, *cbc_dec;
  /** ECB with the layer key: CBC encryption of many messages of one hop run "sideways" (see encrypt_sideways). */
  EVP_CIPHER_CTX *ecb_layer;
  uint8_t enc_chain[16];
  uint8_t dec_chain[16];
  /** From this many messages in one encrypt call, P runs sideways. Per hop: hops live in several threads. */
  int32_t sideways_min;
  /** A CBC update failed: the context's chain value is unknown, so the hop refuses further use. */
  int failed;
} hop_t;

#ifdef TUNNELPLANE_TEST_HOOKS
/** Test build: the fail_at-th EVP update from now reports failure (0: none). Per thread, like the calls. */
static _Thread_local int32_t fail_at = 0;
/** Test build: the next call writes race_value into the caller's offset race_index once it checked its copy. */
static _Thread_local int64_t race_index = -1, race_value = 0;
#define RACE(array, count, type)                                                                 \
  do {                                                                                           \
    if (race_index >= 0 && race_index < (int64_t)(count)) ((type *)(array))[race_index] = (type)race_value; \
    race_index = -1;                                                                             \
  } while (0)
#else
#define RACE(array, count, type) ((void)0)
#endif

/** One EVP update of inl bytes (whole blocks, no padding) from in to out; 1 on success. */
static inline int update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, int inl) {
#ifdef TUNNELPLANE_TEST_HOOKS
  if (fail_at > 0 && --fail_at == 0) return 0;
#endif
  int outl = 0;
  return EVP_CipherUpdate(ctx, out, &outl, in, inl) == 1 && outl == inl;
}

static void hop_free_contexts(hop_t *h) {
  // EVP_CIPHER_CTX_free cleanses the expanded keys before freeing them: these contexts are the only key copies
  // this addon keeps (the keys themselves are read from the caller's arrays once, in createHop).
  EVP_CIPHER_CTX_free(h->ecb_enc);
  EVP_CIPHER_CTX_free(h->ecb_dec);
  EVP_CIPHER_CTX_free(h->cbc_enc);
  EVP_CIPHER_CTX_free(h->cbc_dec);
  EVP_CIPHER_CTX_free(h->ecb_layer);
  h->ecb_enc = h->ecb_dec = h->cbc_enc = h->cbc_dec = h->ecb_layer = NULL;
  OPENSSL_cleanse(h->enc_chain, sizeof h->enc_chain);
  OPENSSL_cleanse(h->dec_chain, sizeof h->dec_chain);
}

static void hop_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  hop_t *h = data;
  hop_free_contexts(h);
  free(h);
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/** Throws an Error whose `completed` says how many bodies (in call order) were transformed before the failure. */
static napi_value throw_failed(napi_env env, int32_t completed) {
  napi_value msg, err, done;
  if (napi_create_string_utf8(env, "OpenSSL AES-256 update failed; the failed body and those after it are untouched",
                              NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &err) != napi_ok) {
    napi_throw_error(env, NULL, "OpenSSL AES-256 update failed");
    return NULL;
  }
  if (napi_create_int32(env, completed, &done) == napi_ok) napi_set_named_property(env, err, "completed", done);
  napi_throw(env, err);
  return NULL;
}

/** A Uint8Array / Int32Array argument: its data pointer and element count, or NULL (a JS exception is pending). */
static void *typed(napi_env env, napi_value v, napi_typedarray_type want, size_t *length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return NULL;
  napi_typedarray_type type;
  void *data = NULL;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, length, &data, &ab, &off) != napi_ok || type != want) return NULL;
  if (data == NULL && *length == 0) data = (void *)"";  // empty views may report no memory
  return data;
}

static int init_ctx(EVP_CIPHER_CTX **ctx, const EVP_CIPHER *cipher, const uint8_t *key, int enc) {
  static const uint8_t zero_iv[16] = {0};
  *ctx = EVP_CIPHER_CTX_new();
  if (*ctx == NULL) return 0;
  if (EVP_CipherInit_ex(*ctx, cipher, NULL, key, cipher == EVP_aes_256_cbc() ? zero_iv : NULL, enc) != 1) return 0;
  return EVP_CIPHER_CTX_set_padding(*ctx, 0) == 1;
}

/** createHop's third argument: which transforms the hop can run (default both). */
enum { DIR_BOTH = 0, DIR_ENCRYPT = 1, DIR_DECRYPT = 2 };

/** Reads an optional direction argument (0 both, 1 encrypt, 2 decrypt); false: a JS exception is pending. */
static int direction_arg(napi_env env, size_t argc, napi_value *argv, size_t at, int32_t *dir) {
  *dir = DIR_BOTH;
  if (argc <= at) return 1;
  if (napi_get_value_int32(env, argv[at], dir) != napi_ok || *dir < DIR_BOTH || *dir > DIR_DECRYPT) {
    throw_range(env, "direction must be 0 (both), 1 (encrypt) or 2 (decrypt)");
    return 0;
  }
  return 1;
}

/**
 * A hop with OpenSSL contexts for these keys and this direction, as an external tagged HOP_TAG (NULL: a JS exception
 * is pending).
 */
static napi_value make_hop(napi_env env, const uint8_t *lk, const uint8_t *ik, int32_t dir) {
  hop_t *h = calloc(1, sizeof *h);
  if (h == NULL) return throw_range(env, "out of memory");
  h->sideways_min = SIDEWAYS_MIN;
  const int e = dir != DIR_DECRYPT, d = dir != DIR_ENCRYPT;
  int ok = (!e || (init_ctx(&h->ecb_enc, EVP_aes_256_ecb(), ik, 1) && init_ctx(&h->cbc_enc, EVP_aes_256_cbc(), lk, 1) &&
                   init_ctx(&h->ecb_layer, EVP_aes_256_ecb(), lk, 1))) &&
           (!d || (init_ctx(&h->ecb_dec, EVP_aes_256_ecb(), ik, 0) && init_ctx(&h->cbc_dec, EVP_aes_256_cbc(), lk, 0)));
  napi_value ext;
  if (!ok || napi_create_external(env, h, hop_finalize, NULL, &ext) != napi_ok) {
    hop_free_contexts(h);
    free(h);
    napi_throw_error(env, NULL, "OpenSSL could not set up AES-256 contexts");
    return NULL;
  }
  if (napi_type_tag_object(env, ext, &HOP_TAG) != napi_ok) {
    hop_free_contexts(h);  // the finalizer frees h
    napi_throw_error(env, NULL, "could not tag the hop handle");
    return NULL;
  }
  return ext;
}

/** The layerKey and ivKey arguments: two Uint8Arrays of KEY bytes (0: a JS exception is pending). */
static int key_args(napi_env env, napi_value lkv, napi_value ikv, const uint8_t **lk, const uint8_t **ik) {
  size_t lkn, ikn;
  *lk = typed(env, lkv, napi_uint8_array, &lkn);
  *ik = typed(env, ikv, napi_uint8_array, &ikn);
  if (*lk == NULL || *ik == NULL) {
    throw_type(env, "layerKey and ivKey must be Uint8Arrays");
    return 0;
  }
  if (lkn != KEY || ikn != KEY) {
    throw_range(env, "layerKey and ivKey must be 32 bytes");
    return 0;
  }
  return 1;
}

// createHop(layerKey: Uint8Array(32), ivKey: Uint8Array(32), direction?: 0 both | 1 encrypt | 2 decrypt) -> external
// (tagged HOP_TAG)
static napi_value create_hop(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "createHop(layerKey, ivKey)");
  int32_t dir;
  if (!direction_arg(env, argc, argv, 2, &dir)) return NULL;
  const uint8_t *lk, *ik;
  if (!key_args(env, argv[0], argv[1], &lk, &ik)) return NULL;
  return make_hop(env, lk, ik, dir);
}

/** The hop behind a handle createHop returned, or NULL for anything else (other externals included). */
static hop_t *hop_arg(napi_env env, napi_value v) {
  hop_t *h = NULL;
  napi_valuetype t;
  bool ours = false;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_check_object_type_tag(env, v, &HOP_TAG, &ours) != napi_ok || !ours) return NULL;
  if (napi_get_value_external(env, v, (void **)&h) != napi_ok) return NULL;
  return h;
}

// wipeHop(hop): frees (and cleanses) the contexts now; later calls with this hop throw.
static napi_value wipe_hop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  hop_t *h = argc >= 1 ? hop_arg(env, argv[0]) : NULL;
  if (h == NULL) return throw_type(env, "wipeHop(hop): hop must come from createHop");
  hop_free_contexts(h);
  return NULL;
}

/**
 * dst[0..16) = a[0..16) ^ b[0..16) as two 64-bit words. Written out because the byte loop it replaces compiled to 16
 * byte loads and 16 byte read-modify-writes: the compiler cannot tell that the message buffer does not overlap the
 * scratch blocks (their address escapes into EVP), and that loop was a third of the sideways kernel's time.
 */
static inline void xor16(uint8_t *dst, const uint8_t *a, const uint8_t *b) {
  uint64_t a0, a1, b0, b1;
  memcpy(&a0, a, 8);
  memcpy(&a1, a + 8, 8);
  memcpy(&b0, b, 8);
  memcpy(&b1, b + 8, 8);
  a0 ^= b0;
  a1 ^= b1;
  memcpy(dst, &a0, 8);
  memcpy(dst + 8, &a1, 8);
}

/** 16: enough independent blocks per ECB call to keep AES-NI's pipeline full, and a group's ciphertext fits L1. */
enum { SIDEWAYS_GROUP = 16 };

/**
 * P on n messages of one hop with CBC run "sideways": CBC encryption is a serial chain inside a message, but block j
 * of every message can go through AES together, c_ij = E(layerKey, p_ij ^ c_i,j-1) with c_i,-1 = X_i, in one ECB
 * call per block position -- independent blocks that AES-NI pipelines, where one CBC call per message waits out the
 * full latency of every block. Messages go in groups of SIDEWAYS_GROUP; a group's ciphertext collects in `out` and
 * reaches the bodies only after its last EVP call succeeded. Returns how many messages were done (n on success).
 */
static int32_t encrypt_sideways(hop_t *h, uint8_t *buf, const int32_t *at, int32_t n) {
  uint8_t out[SIDEWAYS_GROUP * DATA], x[SIDEWAYS_GROUP * 16], blk[SIDEWAYS_GROUP * 16];
  int32_t done = 0;
  for (int32_t g = 0; g < n; g += SIDEWAYS_GROUP) {
    const int32_t k = n - g < SIDEWAYS_GROUP ? n - g : SIDEWAYS_GROUP;
    const int32_t *a = at + g;
    int ok = 1;
    for (int32_t i = 0; i < k; i++) memcpy(x + 16 * i, buf + a[i] + IV_AT, 16);
    // X_i = E(ivKey, IV_i), all k at once.
    if (!update(h->ecb_enc, x, x, 16 * k)) break;
    for (int32_t i = 0; i < k; i++) xor16(blk + 16 * i, buf + a[i] + DATA_AT, x + 16 * i);
    for (int j = 0; j < DATA / 16 && ok; j++) {
      // Block j of every message, straight into out (block-major: out[j][i]).
      uint8_t *c = out + 16 * k * j;
      if (!update(h->ecb_layer, c, blk, 16 * k)) { ok = 0; break; }
      if (j + 1 < DATA / 16) {
        for (int32_t i = 0; i < k; i++) xor16(blk + 16 * i, c + 16 * i, buf + a[i] + DATA_AT + 16 * (j + 1));
      }
    }
    // IV'_i = E(ivKey, X_i).
    if (!ok || !update(h->ecb_enc, x, x, 16 * k)) break;
    for (int32_t i = 0; i < k; i++) {
      uint8_t *m = buf + a[i];
      memcpy(m + IV_AT, x + 16 * i, 16);
      for (int j = 0; j < DATA / 16; j++) memcpy(m + DATA_AT + 16 * j, out + 16 * (k * j + i), 16);
    }
    done += k;
  }
  OPENSSL_cleanse(x, sizeof x);
  OPENSSL_cleanse(blk, sizeof blk);
  return done;
}

/**
 * P or P^-1 on the n bodies at at[0..n), one CBC call each, on a private copy of each body that is written back once
 * its three EVP calls succeeded. A failed CBC update leaves the context's chain value unknown: the hop is retired.
 * Returns how many bodies were done (n on success).
 */
static int32_t run_serial(hop_t *h, uint8_t *buf, const int32_t *at, int32_t n, int enc) {
  uint8_t s[SPAN], x[16], last[16];
  uint8_t *const d = s + 16;
  int32_t done = 0;
  for (int32_t i = 0; i < n; i++) {
    uint8_t *m = buf + at[i] + IV_AT;
    memcpy(s, m, SPAN);
    if (enc) {
      // X = E(ivKey, IV); data = CBC-E(layerKey, X, data); IV' = E(ivKey, X)
      if (!update(h->ecb_enc, x, s, 16)) break;
      xor16(d, d, x);
      xor16(d, d, h->enc_chain);
      if (!update(h->cbc_enc, d, d, DATA)) { h->failed = 1; break; }
      memcpy(h->enc_chain, d + DATA - 16, 16);  // the context moved on whatever happens next
      if (!update(h->ecb_enc, s, x, 16)) break;
    } else {
      // X = D(ivKey, IV); data = CBC-D(layerKey, X, data); IV0 = D(ivKey, X)
      if (!update(h->ecb_dec, x, s, 16)) break;
      memcpy(last, d + DATA - 16, 16);
      if (!update(h->cbc_dec, d, d, DATA)) { h->failed = 1; break; }
      xor16(d, d, x);
      xor16(d, d, h->dec_chain);
      memcpy(h->dec_chain, last, 16);
      if (!update(h->ecb_dec, s, x, 16)) break;
    }
    memcpy(m, s, SPAN);
    done++;
  }
  // s holds what the bodies now hold (or a failed body's partial result); x derives from the IV key.
  OPENSSL_cleanse(x, sizeof x);
  if (h->failed) hop_free_contexts(h);
  return done;
}

// encrypt / decrypt (hop, bodies: Uint8Array, at: Int32Array, n): the layer on the n bodies starting at byte
// offsets at[0..n) of bodies, in place. Returns nothing; throws on bad arguments (nothing touched) or an OpenSSL
// failure (an Error whose `completed` counts the bodies done, in order; the others are untouched).
static napi_value run(napi_env env, napi_callback_info info, int enc) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return throw_type(env, "(hop, bodies, at, n)");
  hop_t *h = hop_arg(env, argv[0]);
  if (h == NULL) return throw_type(env, "hop must come from createHop");
  if (h->failed) return throw_type(env, "this hop was retired after an OpenSSL failure");
  if (h->ecb_enc == NULL && h->ecb_dec == NULL) return throw_type(env, "this hop's keys were wiped");
  if ((enc ? h->ecb_enc : h->ecb_dec) == NULL) return throw_type(env, "this hop was made for the other direction");
  size_t len, atn;
  uint8_t *buf = typed(env, argv[1], napi_uint8_array, &len);
  const int32_t *at = typed(env, argv[2], napi_int32_array, &atn);
  int32_t n;
  if (buf == NULL || at == NULL) return throw_type(env, "bodies must be a Uint8Array and at an Int32Array");
  if (napi_get_value_int32(env, argv[3], &n) != napi_ok || n < 0 || (size_t)n > atn) return throw_range(env, "n must be 0..at.length");
  // One read of each offset (at may be shared memory another thread writes), then checks on the copy only.
  int32_t stack[STACK_OFFSETS];
  int32_t *off = n <= STACK_OFFSETS ? stack : malloc(sizeof *off * (size_t)n);
  if (off == NULL) return throw_range(env, "out of memory");
  const volatile int32_t *src = at;
  for (int32_t i = 0; i < n; i++) off[i] = src[i];
  for (int32_t i = 0; i < n; i++) {
    if (off[i] < 0 || (size_t)off[i] > len || len - (size_t)off[i] < BODY) {
      if (off != stack) free(off);
      return throw_range(env, "a body offset is outside bodies");
    }
  }
  RACE(at, n, int32_t);
  const int32_t done = enc && n >= h->sideways_min ? encrypt_sideways(h, buf, off, n) : run_serial(h, buf, off, n, enc);
  if (off != stack) free(off);
  return done == n ? NULL : throw_failed(env, done);
}

// setSidewaysMin(hop, n): from how many of this hop's messages in one encrypt call P runs sideways (tests, bench).
static napi_value set_sideways_min(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t v;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "setSidewaysMin(hop, n)");
  hop_t *h = hop_arg(env, argv[0]);
  if (h == NULL) return throw_type(env, "hop must come from createHop");
  if (napi_get_value_int32(env, argv[1], &v) != napi_ok || v < 1) return throw_range(env, "setSidewaysMin(hop, n >= 1)");
  h->sideways_min = v;
  return NULL;
}

// copyBlocks(dst: Uint8Array, dstAt: Uint32Array, src: Uint8Array, srcAt: Uint32Array, from, to, size): for i in
// [from, to), size bytes from src[srcAt[i]] to dst[dstAt[i]] (memmove). The data plane's batch copies into and out
// of SharedArrayBuffer slots: V8 copies shared memory with relaxed atomic stores, a byte at a time where the two
// addresses differ modulo 8 (every other 1028-byte message), where this is a plain memcpy. Not secret-dependent.
// Offsets are read once each, like run()'s, and every block is checked before the first is copied.
static napi_value copy_blocks(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    return throw_type(env, "(dst, dstAt, src, srcAt, from, to, size)");
  }
  size_t dlen, slen, dn, sn;
  uint8_t *dst = typed(env, argv[0], napi_uint8_array, &dlen);
  const uint32_t *dat = typed(env, argv[1], napi_uint32_array, &dn);
  const uint8_t *src = typed(env, argv[2], napi_uint8_array, &slen);
  const uint32_t *sat = typed(env, argv[3], napi_uint32_array, &sn);
  if (dst == NULL || src == NULL || dat == NULL || sat == NULL) {
    return throw_type(env, "dst and src must be Uint8Arrays, dstAt and srcAt Uint32Arrays");
  }
  int64_t from, to, size;
  if (napi_get_value_int64(env, argv[4], &from) != napi_ok || napi_get_value_int64(env, argv[5], &to) != napi_ok ||
      napi_get_value_int64(env, argv[6], &size) != napi_ok || from < 0 || to < from || size < 0 ||
      (uint64_t)to > dn || (uint64_t)to > sn) {
    return throw_range(env, "from..to must lie within dstAt and srcAt, size >= 0");
  }
  const size_t count = (size_t)(to - from);
  uint32_t stack[2 * STACK_OFFSETS];
  uint32_t *pairs = count <= STACK_OFFSETS ? stack : malloc(2 * sizeof *pairs * count);
  if (pairs == NULL) return throw_range(env, "out of memory");
  const volatile uint32_t *vd = dat + from, *vs = sat + from;
  for (size_t i = 0; i < count; i++) {
    pairs[2 * i] = vd[i];
    pairs[2 * i + 1] = vs[i];
  }
  for (size_t i = 0; i < count; i++) {
    if ((uint64_t)pairs[2 * i] + (uint64_t)size > dlen || (uint64_t)pairs[2 * i + 1] + (uint64_t)size > slen) {
      if (pairs != stack) free(pairs);
      return throw_range(env, "a block is outside dst or src");
    }
  }
  RACE(dat + from, count, uint32_t);
  for (size_t i = 0; i < count; i++) memmove(dst + pairs[2 * i], src + pairs[2 * i + 1], (size_t)size);
  if (pairs != stack) free(pairs);
  return NULL;
}

static napi_value encrypt(napi_env env, napi_callback_info info) { return run(env, info, 1); }
static napi_value decrypt(napi_env env, napi_callback_info info) { return run(env, info, 0); }

// ---- the multi-key kernel (aes_multikey.c): a keyring of expanded hop keys, P / P^-1 across tunnels ----------

/** Tags our keyring externals (see HOP_TAG). */
static const napi_type_tag RING_TAG = {0x6b1e93d04a2c57f1ULL, 0xd28a4f6e0b5c3197ULL};

/** A keyring handle; ring is NULL once closed. */
typedef struct {
  mk_ring *ring;
} ring_t;

/** Messages (encrypt) and hop records (decrypt) through the kernel on this thread: tests check it is used. */
static _Thread_local double kernel_count = 0;

static void ring_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  ring_t *k = data;
  mk_ring_free(k->ring);
  free(k);
}

/** The open keyring behind a handle createKeyring returned, or NULL (a JS exception is then pending). */
static mk_ring *ring_arg(napi_env env, napi_value v) {
  ring_t *k = NULL;
  napi_valuetype t;
  bool ours = false;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, v, &RING_TAG, &ours) != napi_ok || !ours ||
      napi_get_value_external(env, v, (void **)&k) != napi_ok || k == NULL) {
    throw_type(env, "keyring must come from createKeyring");
    return NULL;
  }
  if (k->ring == NULL) {
    throw_type(env, "this keyring was closed");
    return NULL;
  }
  return k->ring;
}

// multiKeyKernel() -> string: the kernel this CPU runs ("aesni"), or "" where createKeyring would throw.
static napi_value multi_key_kernel(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, mk_kernel_name(), NAPI_AUTO_LENGTH, &out);
  return out;
}

// multiKeyCount() -> number: see kernel_count.
static napi_value multi_key_count(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_double(env, kernel_count, &out);
  return out;
}

// createKeyring() -> external (tagged RING_TAG). Throws where the CPU has no AES-NI.
static napi_value create_keyring(napi_env env, napi_callback_info info) {
  (void)info;
  if (!mk_available()) return throw_type(env, "the multi-key AES kernel needs AES-NI");
  ring_t *k = calloc(1, sizeof *k);
  if (k != NULL) k->ring = mk_ring_new();
  if (k == NULL || k->ring == NULL) {
    free(k);
    return throw_range(env, "out of memory");
  }
  napi_value ext;
  if (napi_create_external(env, k, ring_finalize, NULL, &ext) != napi_ok) {
    mk_ring_free(k->ring);
    free(k);
    napi_throw_error(env, NULL, "could not make the keyring handle");
    return NULL;
  }
  if (napi_type_tag_object(env, ext, &RING_TAG) != napi_ok) {
    mk_ring_free(k->ring);  // the finalizer frees k
    k->ring = NULL;
    napi_throw_error(env, NULL, "could not tag the keyring handle");
    return NULL;
  }
  return ext;
}

// keyringAdd(ring, layerKey: Uint8Array(32), ivKey: Uint8Array(32)) -> slot: the keys expanded into a free slot (the
// caller's arrays are read once and not kept). Throws RangeError when the ring is full (MK_MAX_SLOTS).
static napi_value keyring_add(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_type(env, "keyringAdd(ring, layerKey, ivKey)");
  mk_ring *r = ring_arg(env, argv[0]);
  if (r == NULL) return NULL;
  const uint8_t *lk, *ik;
  if (!key_args(env, argv[1], argv[2], &lk, &ik)) return NULL;
  // Private copies: the caller's arrays may be shared memory another thread writes.
  uint8_t keys[2 * KEY];
  memcpy(keys, lk, KEY);
  memcpy(keys + KEY, ik, KEY);
  const int32_t slot = mk_ring_add(r, keys, keys + KEY);
  OPENSSL_cleanse(keys, sizeof keys);
  if (slot < 0) return throw_range(env, "the keyring is full");
  napi_value out;
  napi_create_int32(env, slot, &out);
  return out;
}

// keyringWipe(ring, slot): wipes the slot's round keys and frees it; a slot not in use is left alone.
static napi_value keyring_wipe(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t slot;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "keyringWipe(ring, slot)");
  mk_ring *r = ring_arg(env, argv[0]);
  if (r == NULL) return NULL;
  if (napi_get_value_int32(env, argv[1], &slot) != napi_ok) return throw_type(env, "slot must be a number");
  mk_ring_wipe(r, slot);
  return NULL;
}

// createHopFromSlot(ring, slot, direction?) -> external (tagged HOP_TAG): OpenSSL contexts for the keys of a keyring slot, made
// when a tunnel that so far only used the kernel first has several messages in a batch (its CBC then runs sideways).
static napi_value create_hop_from_slot(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t slot;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "createHopFromSlot(ring, slot)");
  mk_ring *r = ring_arg(env, argv[0]);
  if (r == NULL) return NULL;
  if (napi_get_value_int32(env, argv[1], &slot) != napi_ok) return throw_type(env, "slot must be a number");
  int32_t dir;
  if (!direction_arg(env, argc, argv, 2, &dir)) return NULL;
  uint8_t keys[2 * KEY];
  if (!mk_ring_keys(r, slot, keys, keys + KEY)) return throw_range(env, "the slot is not in use");
  napi_value out = make_hop(env, keys, keys + KEY, dir);
  OPENSSL_cleanse(keys, sizeof keys);
  return out;
}

// keyringClose(ring): wipes every slot and frees the ring now; later calls with it throw. Idempotent.
static napi_value keyring_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  ring_t *k = NULL;
  napi_valuetype t;
  bool ours = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, argv[0], &RING_TAG, &ours) != napi_ok || !ours ||
      napi_get_value_external(env, argv[0], (void **)&k) != napi_ok || k == NULL) {
    return throw_type(env, "keyringClose(ring): ring must come from createKeyring");
  }
  mk_ring_free(k->ring);
  k->ring = NULL;
  return NULL;
}

// multiEncrypt / multiDecrypt (ring, bodies: Uint8Array, at: Int32Array, slots: Int32Array, n): P on the n bodies
// at byte offsets at[i] with the keys of slots[i] (several tunnels' chains interleaved; the bodies must not overlap),
// or P^-1 on the n (at[i], slots[i]) records in order (a creator strip: one record per hop, last hop first). In
// place; throws on bad arguments (nothing touched). Offsets and slots are read once each, then checked.
static napi_value run_multi(napi_env env, napi_callback_info info, int enc) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return throw_type(env, "(ring, bodies, at, slots, n)");
  mk_ring *r = ring_arg(env, argv[0]);
  if (r == NULL) return NULL;
  size_t len, atn, sn;
  uint8_t *buf = typed(env, argv[1], napi_uint8_array, &len);
  const int32_t *at = typed(env, argv[2], napi_int32_array, &atn);
  const int32_t *sl = typed(env, argv[3], napi_int32_array, &sn);
  int32_t n;
  if (buf == NULL || at == NULL || sl == NULL) return throw_type(env, "bodies must be a Uint8Array, at and slots Int32Arrays");
  if (napi_get_value_int32(env, argv[4], &n) != napi_ok || n < 0 || (size_t)n > atn || (size_t)n > sn) {
    return throw_range(env, "n must be 0..min(at.length, slots.length)");
  }
  int32_t stack[2 * STACK_OFFSETS];
  int32_t *off = n <= STACK_OFFSETS ? stack : malloc(2 * sizeof *off * (size_t)n);
  if (off == NULL) return throw_range(env, "out of memory");
  int32_t *slot = off + n;
  const volatile int32_t *va = at, *vs = sl;
  for (int32_t i = 0; i < n; i++) {
    off[i] = va[i];
    slot[i] = vs[i];
  }
  for (int32_t i = 0; i < n; i++) {
    if (off[i] < 0 || (size_t)off[i] > len || len - (size_t)off[i] < BODY || !mk_ring_live(r, slot[i])) {
      if (off != stack) free(off);
      return throw_range(env, "a body offset is outside bodies or a slot is not in use");
    }
  }
  RACE(at, n, int32_t);
  if (enc) mk_encrypt(r, buf, off, slot, n);
  else mk_decrypt(r, buf, off, slot, n);
  kernel_count += n;
  if (off != stack) free(off);
  return NULL;
}

static napi_value multi_encrypt(napi_env env, napi_callback_info info) { return run_multi(env, info, 1); }
static napi_value multi_decrypt(napi_env env, napi_callback_info info) { return run_multi(env, info, 0); }

#ifdef TUNNELPLANE_TEST_HOOKS
// ---- test build only (native/test/binding.gyp; scripts/build-native.mjs --test) ---------------------------------
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

// debugFailUpdate(k): the k-th EVP update from now (on this thread) reports failure; 0 turns that off.
static napi_value debug_fail_update(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t k;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &k) != napi_ok || k < 0) {
    return throw_range(env, "debugFailUpdate(k >= 0)");
  }
  fail_at = k;
  return NULL;
}

// debugRaceOffset(index, value): see race_index.
static napi_value debug_race_offset(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t index, value;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int64(env, argv[0], &index) != napi_ok || napi_get_value_int64(env, argv[1], &value) != napi_ok) {
    return throw_range(env, "debugRaceOffset(index, value)");
  }
  race_index = index;
  race_value = value;
  return NULL;
}

static void free_block(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

// debugForeignExternal(): an external that createHop did not make (untagged; zeroed memory the size of a hop).
static napi_value debug_foreign_external(napi_env env, napi_callback_info info) {
  (void)info;
  void *p = calloc(1, sizeof(hop_t));
  napi_value ext;
  if (p == NULL || napi_create_external(env, p, free_block, NULL, &ext) != napi_ok) {
    free(p);
    napi_throw_error(env, NULL, "could not make an external");
    return NULL;
  }
  return ext;
}

enum { SCAN_CHUNK = 1 << 20, SCAN_MAX_NEEDLE = 256 };

/** Occurrences of needle in [from, to) of this process, read through /proc/self/mem (faults become short reads). */
static int64_t scan_range(int fd, uint8_t *chunk, uintptr_t from, uintptr_t to, const uint8_t *needle, size_t nl) {
  int64_t hits = 0;
  for (uintptr_t at = from; at < to;) {
    size_t want = to - at < SCAN_CHUNK ? (size_t)(to - at) : SCAN_CHUNK;
    ssize_t got = pread(fd, chunk, want, (off_t)at);
    if (got <= 0) {  // unreadable page: skip it
      at = (at | 4095) + 1;
      continue;
    }
    for (const uint8_t *p = chunk, *end = chunk + got; (p = memmem(p, (size_t)(end - p), needle, nl)) != NULL; p++) hits++;
    // Overlap chunks by nl - 1 bytes so a match across a boundary counts once.
    at += (size_t)got >= nl && at + (uintptr_t)got < to ? (uintptr_t)got - (nl - 1) : (uintptr_t)got;
  }
  return hits;
}

// debugCountInMemory(masked: Uint8Array, mask: Uint8Array) -> number: how many times masked ^ mask occurs in the
// process's private writable memory (heaps, stacks, V8 and WASM memory, libraries' data): after a key's owner
// wiped it, its OpenSSL schedules must be gone. The needle is passed masked so the caller holds no plain copy; it
// is rebuilt in a private mapping that the scan skips. Linux only (/proc/self/maps); throws elsewhere.
static napi_value debug_count_in_memory(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  size_t ml, kl;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "(masked, mask)");
  const uint8_t *masked = typed(env, argv[0], napi_uint8_array, &ml);
  const uint8_t *mask = typed(env, argv[1], napi_uint8_array, &kl);
  if (masked == NULL || mask == NULL || ml != kl || ml < 8 || ml > SCAN_MAX_NEEDLE) {
    return throw_range(env, "masked and mask must be Uint8Arrays of one length, 8..256");
  }
  const size_t own = SCAN_CHUNK + 4096;
  uint8_t *mine = mmap(NULL, own, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mine == MAP_FAILED) return throw_range(env, "mmap failed");
  uint8_t *needle = mine + SCAN_CHUNK;
  for (size_t i = 0; i < ml; i++) needle[i] = masked[i] ^ mask[i];
  int fd = open("/proc/self/mem", O_RDONLY);
  FILE *maps = fopen("/proc/self/maps", "r");
  int64_t hits = -1;
  if (fd >= 0 && maps != NULL) {
    hits = 0;
    const uintptr_t skip_from = (uintptr_t)mine, skip_to = (uintptr_t)mine + own;
    char line[512];
    while (fgets(line, sizeof line, maps) != NULL) {
      unsigned long lo, hi;
      char perms[5];
      if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || strcmp(perms, "rw-p") != 0) continue;
      if (lo < skip_from) hits += scan_range(fd, mine, lo, hi < skip_from ? hi : skip_from, needle, ml);
      if (hi > skip_to) hits += scan_range(fd, mine, lo > skip_to ? lo : skip_to, hi, needle, ml);
    }
  }
  if (maps != NULL) fclose(maps);
  if (fd >= 0) close(fd);
  OPENSSL_cleanse(mine, own);
  munmap(mine, own);
  if (hits < 0) return throw_range(env, "/proc/self/maps or /proc/self/mem unavailable");
  napi_value out;
  napi_create_int64(env, hits, &out);
  return out;
}
#endif

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"createHop", NULL, create_hop, NULL, NULL, NULL, napi_enumerable, NULL},
    {"wipeHop", NULL, wipe_hop, NULL, NULL, NULL, napi_enumerable, NULL},
    {"encrypt", NULL, encrypt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decrypt", NULL, decrypt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setSidewaysMin", NULL, set_sideways_min, NULL, NULL, NULL, napi_enumerable, NULL},
    {"copyBlocks", NULL, copy_blocks, NULL, NULL, NULL, napi_enumerable, NULL},
    {"multiKeyKernel", NULL, multi_key_kernel, NULL, NULL, NULL, napi_enumerable, NULL},
    {"multiKeyCount", NULL, multi_key_count, NULL, NULL, NULL, napi_enumerable, NULL},
    {"createKeyring", NULL, create_keyring, NULL, NULL, NULL, napi_enumerable, NULL},
    {"keyringAdd", NULL, keyring_add, NULL, NULL, NULL, napi_enumerable, NULL},
    {"keyringWipe", NULL, keyring_wipe, NULL, NULL, NULL, napi_enumerable, NULL},
    {"createHopFromSlot", NULL, create_hop_from_slot, NULL, NULL, NULL, napi_enumerable, NULL},
    {"keyringClose", NULL, keyring_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"multiEncrypt", NULL, multi_encrypt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"multiDecrypt", NULL, multi_decrypt, NULL, NULL, NULL, napi_enumerable, NULL},
#ifdef TUNNELPLANE_TEST_HOOKS
    {"debugFailUpdate", NULL, debug_fail_update, NULL, NULL, NULL, napi_enumerable, NULL},
    {"debugRaceOffset", NULL, debug_race_offset, NULL, NULL, NULL, napi_enumerable, NULL},
    {"debugForeignExternal", NULL, debug_foreign_external, NULL, NULL, NULL, napi_enumerable, NULL},
    {"debugCountInMemory", NULL, debug_count_in_memory, NULL, NULL, NULL, napi_enumerable, NULL},
#endif
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }

// The AES tunnel layer (tunnel-crypto-aes.md §2) over OpenSSL's EVP interface, for the 'native' engine backend.
//
// Why native: node:crypto's Cipher.update() costs about 1.6 us of binding work per call and returns a fresh Buffer
// whose memory V8 frees on a helper thread, so the CBC step of a hop cost 3.4 us through it against 1.25 us here.
// Everything happens in place in the caller's memory (ordinary or shared): no allocation per message.
//
// The OpenSSL is the one Node.js itself links (its headers ship with Node's; its symbols are exported by the node
// binary), so EVP picks the same AES-NI (or vector-permutation) code node:crypto uses: constant-time, no tables
// indexed by secret bytes.
//
// One hop holds four long-lived EVP contexts: ECB with the IV key (encrypt and decrypt) and CBC with the layer key
// (encrypt and decrypt). CBC contexts chain across calls; instead of resetting the IV per message, the first block
// is corrected with the chain value the context holds (the last ciphertext block it saw):
//   P:    block1 ^= X ^ chain before the update (the context then starts the message with IV X)
//   P^-1: block1 ^= chain ^ X after the update
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { BODY = 1028, IV_AT = 4, DATA_AT = 20, DATA = 1008, KEY = 32 };

/** From this many messages of one hop in a call, P runs sideways (setSidewaysMin). Measured on 2 cores of an AMD
 * EPYC, 256 messages over 256 / k hops (node dist/bench/aes-native.js): k = 2 0.76 us a message sideways against
 * 1.06 us one CBC call each, k = 4 0.39 against 1.03, k >= 16 0.19-0.20 us. */
static int32_t sideways_min = 2;

typedef struct {
  EVP_CIPHER_CTX *ecb_enc, *ecb_dec, *cbc_enc, *cbc_dec;
  /** ECB with the layer key: CBC encryption of many messages of one hop run "sideways" (see encrypt_sideways). */
  EVP_CIPHER_CTX *ecb_layer;
  uint8_t enc_chain[16];
  uint8_t dec_chain[16];
} hop_t;

static void hop_free_contexts(hop_t *h) {
  // EVP_CIPHER_CTX_free cleanses the expanded keys before freeing them.
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

// createHop(layerKey: Uint8Array(32), ivKey: Uint8Array(32)) -> external
static napi_value create_hop(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "createHop(layerKey, ivKey)");
  size_t lkn, ikn;
  const uint8_t *lk = typed(env, argv[0], napi_uint8_array, &lkn);
  const uint8_t *ik = typed(env, argv[1], napi_uint8_array, &ikn);
  if (lk == NULL || ik == NULL) return throw_type(env, "layerKey and ivKey must be Uint8Arrays");
  if (lkn != KEY || ikn != KEY) return throw_range(env, "layerKey and ivKey must be 32 bytes");
  hop_t *h = calloc(1, sizeof *h);
  if (h == NULL) return throw_range(env, "out of memory");
  int ok = init_ctx(&h->ecb_enc, EVP_aes_256_ecb(), ik, 1) && init_ctx(&h->ecb_dec, EVP_aes_256_ecb(), ik, 0) &&
           init_ctx(&h->cbc_enc, EVP_aes_256_cbc(), lk, 1) && init_ctx(&h->cbc_dec, EVP_aes_256_cbc(), lk, 0) &&
           init_ctx(&h->ecb_layer, EVP_aes_256_ecb(), lk, 1);
  napi_value ext;
  if (!ok || napi_create_external(env, h, hop_finalize, NULL, &ext) != napi_ok) {
    hop_free_contexts(h);
    free(h);
    napi_throw_error(env, NULL, "OpenSSL could not set up AES-256 contexts");
    return NULL;
  }
  return ext;
}

static hop_t *hop_arg(napi_env env, napi_value v) {
  hop_t *h = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, (void **)&h) != napi_ok) return NULL;
  return h;
}

// wipeHop(hop): frees (and cleanses) the contexts now; later calls with this hop throw.
static napi_value wipe_hop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  hop_t *h = argc >= 1 ? hop_arg(env, argv[0]) : NULL;
  if (h == NULL) return throw_type(env, "wipeHop(hop)");
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

/**
 * P on n messages of one hop with CBC run "sideways": CBC encryption is a serial chain inside a message, but block j
 * of every message can go through AES together, c_ij = E(layerKey, p_ij ^ c_i,j-1) with c_i,-1 = X_i, in one ECB
 * call per block position -- independent blocks that AES-NI pipelines, where one CBC call per message waits out the
 * full latency of every block. Messages go in groups of SIDEWAYS_GROUP. Returns 0 on an OpenSSL failure.
 */
enum { SIDEWAYS_GROUP = 64 };
static int encrypt_sideways(hop_t *h, uint8_t *buf, const int32_t *at, int32_t n) {
  uint8_t x[SIDEWAYS_GROUP * 16], blk[SIDEWAYS_GROUP * 16];
  int outl, ok = 1;
  for (int32_t g = 0; g < n && ok; g += SIDEWAYS_GROUP) {
    const int32_t k = n - g < SIDEWAYS_GROUP ? n - g : SIDEWAYS_GROUP;
    const int32_t *a = at + g;
    for (int32_t i = 0; i < k; i++) memcpy(x + 16 * i, buf + a[i] + IV_AT, 16);
    // X_i = E(ivKey, IV_i), all k at once.
    if (EVP_EncryptUpdate(h->ecb_enc, x, &outl, x, 16 * k) != 1 || outl != 16 * k) { ok = 0; break; }
    for (int32_t i = 0; i < k; i++) {
      const uint8_t *p = buf + a[i] + DATA_AT;
      xor16(blk + 16 * i, p, x + 16 * i);
    }
    for (int j = 0; j < DATA / 16 && ok; j++) {
      if (EVP_EncryptUpdate(h->ecb_layer, blk, &outl, blk, 16 * k) != 1 || outl != 16 * k) { ok = 0; break; }
      for (int32_t i = 0; i < k; i++) {
        uint8_t *c = buf + a[i] + DATA_AT + 16 * j;
        memcpy(c, blk + 16 * i, 16);
        if (j + 1 < DATA / 16) xor16(blk + 16 * i, blk + 16 * i, c + 16);
      }
    }
    // IV'_i = E(ivKey, X_i).
    if (ok && (EVP_EncryptUpdate(h->ecb_enc, x, &outl, x, 16 * k) != 1 || outl != 16 * k)) ok = 0;
    if (ok) for (int32_t i = 0; i < k; i++) memcpy(buf + a[i] + IV_AT, x + 16 * i, 16);
  }
  OPENSSL_cleanse(x, sizeof x);
  OPENSSL_cleanse(blk, sizeof blk);
  return ok;
}

// encrypt / decrypt (hop, bodies: Uint8Array, at: Int32Array, n): the layer on the n bodies starting at byte
// offsets at[0..n) of bodies, in place. Returns nothing; throws on bad arguments or an OpenSSL failure.
static napi_value run(napi_env env, napi_callback_info info, int enc) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return throw_type(env, "(hop, bodies, at, n)");
  hop_t *h = hop_arg(env, argv[0]);
  if (h == NULL) return throw_type(env, "hop must come from createHop");
  if (h->ecb_enc == NULL) return throw_type(env, "this hop's keys were wiped");
  size_t len, atn;
  uint8_t *buf = typed(env, argv[1], napi_uint8_array, &len);
  const int32_t *at = typed(env, argv[2], napi_int32_array, &atn);
  int32_t n;
  if (buf == NULL || at == NULL) return throw_type(env, "bodies must be a Uint8Array and at an Int32Array");
  if (napi_get_value_int32(env, argv[3], &n) != napi_ok || n < 0 || (size_t)n > atn) return throw_range(env, "n must be 0..at.length");
  for (int32_t i = 0; i < n; i++) {
    if (at[i] < 0 || (size_t)at[i] > len || len - (size_t)at[i] < BODY) return throw_range(env, "a body offset is outside bodies");
  }
  if (enc && n >= sideways_min) {
    if (!encrypt_sideways(h, buf, at, n)) {
      napi_throw_error(env, NULL, "OpenSSL AES-256 update failed");
      return NULL;
    }
    return NULL;
  }
  int outl;
  uint8_t x[16], last[16];
  for (int32_t i = 0; i < n; i++) {
    uint8_t *m = buf + at[i];
    uint8_t *d = m + DATA_AT;
    if (enc) {
      // X = E(ivKey, IV); data = CBC-E(layerKey, X, data); IV' = E(ivKey, X)
      if (EVP_EncryptUpdate(h->ecb_enc, x, &outl, m + IV_AT, 16) != 1 || outl != 16) goto fail;
      xor16(d, d, x);
      xor16(d, d, h->enc_chain);
      if (EVP_EncryptUpdate(h->cbc_enc, d, &outl, d, DATA) != 1 || outl != DATA) goto fail;
      memcpy(h->enc_chain, d + DATA - 16, 16);
      if (EVP_EncryptUpdate(h->ecb_enc, m + IV_AT, &outl, x, 16) != 1 || outl != 16) goto fail;
    } else {
      // X = D(ivKey, IV); data = CBC-D(layerKey, X, data); IV0 = D(ivKey, X)
      if (EVP_DecryptUpdate(h->ecb_dec, x, &outl, m + IV_AT, 16) != 1 || outl != 16) goto fail;
      memcpy(last, d + DATA - 16, 16);
      if (EVP_DecryptUpdate(h->cbc_dec, d, &outl, d, DATA) != 1 || outl != DATA) goto fail;
      xor16(d, d, x);
      xor16(d, d, h->dec_chain);
      memcpy(h->dec_chain, last, 16);
      if (EVP_DecryptUpdate(h->ecb_dec, m + IV_AT, &outl, x, 16) != 1 || outl != 16) goto fail;
    }
  }
  OPENSSL_cleanse(x, sizeof x);
  return NULL;
fail:
  OPENSSL_cleanse(x, sizeof x);
  napi_throw_error(env, NULL, "OpenSSL AES-256 update failed");
  return NULL;
}

// setSidewaysMin(n): tuning knob for benchmarks and tests (process-wide).
static napi_value set_sideways_min(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t v;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &v) != napi_ok || v < 1) {
    return throw_range(env, "setSidewaysMin(n >= 1)");
  }
  sideways_min = v;
  return NULL;
}

// copyBlocks(dst: Uint8Array, dstAt: Uint32Array, src: Uint8Array, srcAt: Uint32Array, from, to, size): for i in
// [from, to), size bytes from src[srcAt[i]] to dst[dstAt[i]] (memmove). The data plane's batch copies into and out
// of SharedArrayBuffer slots: V8 copies shared memory with relaxed atomic stores, a byte at a time where the two
// addresses differ modulo 8 (every other 1028-byte message), where this is a plain memcpy. Not secret-dependent.
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
  for (int64_t i = from; i < to; i++) {
    if ((uint64_t)dat[i] + (uint64_t)size > dlen || (uint64_t)sat[i] + (uint64_t)size > slen) {
      return throw_range(env, "a block is outside dst or src");
    }
  }
  for (int64_t i = from; i < to; i++) memmove(dst + dat[i], src + sat[i], (size_t)size);
  return NULL;
}

static napi_value encrypt(napi_env env, napi_callback_info info) { return run(env, info, 1); }
static napi_value decrypt(napi_env env, napi_callback_info info) { return run(env, info, 0); }

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"createHop", NULL, create_hop, NULL, NULL, NULL, napi_enumerable, NULL},
    {"wipeHop", NULL, wipe_hop, NULL, NULL, NULL, napi_enumerable, NULL},
    {"encrypt", NULL, encrypt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decrypt", NULL, decrypt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setSidewaysMin", NULL, set_sideways_min, NULL, NULL, NULL, napi_enumerable, NULL},
    {"copyBlocks", NULL, copy_blocks, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }

// The multi-key AES-NI kernel: the tunnel layer P and P^-1 (tunnel-crypto-aes.md §2) over messages of different
// tunnels in one call.
//
// Why: CBC encryption is a serial chain inside a message, so one message at a time waits out the latency of every
// AES round (what OpenSSL's one-chain rate, `openssl speed -evp aes-256-cbc`, measures). Messages of different
// tunnels are independent chains with their own keys: P runs 8 of them side by side, round by round, so the AES unit
// starts a round of another chain while one waits, and the call is bound by AES throughput instead of latency.
// P^-1 needs no such help (CBC decryption of one message is already parallel): it runs 9 blocks of a message at once.
//
// Keys: each hop's layer and IV keys are expanded once into a slot of a keyring (480 bytes: the two encryption
// schedules; P^-1 derives the decryption schedules per call with AESIMC), slots in fixed chunks that never move, so
// no stale copy is left behind by a reallocation; a slot is wiped when its hop ends and the whole ring when it is
// freed. Working copies of round keys on the stack are wiped before each call returns.
//
// Constant time: AES-NI only (AESENC/AESDEC/AESKEYGENASSIST/AESIMC do the S-box in hardware), no table, and no
// branch or address that depends on a key or data byte; the only branches are on counts and slot numbers.
// Selected at run time: CPUID says whether the CPU has AES-NI; elsewhere mk_available() is 0 and the addon keeps
// its OpenSSL path. The functions that use AES-NI carry target attributes, so the file builds with the plain flags
// of binding.gyp and the addon still loads on CPUs without AES-NI.
#include "aes_multikey.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)  // see aes_multikey.h
#endif

/** Body layout (tunnel-crypto-aes.md §1): the kernel takes the body's address and works from its IV on. */
enum { IV_AT = 4, DATA_AT = 20, BLOCKS = 63, ROUNDS = 14 };

/** Slots per chunk; a chunk is allocated when the ring runs out of free slots and lives as long as the ring. */
enum { MK_CHUNK = 128, MK_CHUNKS = MK_MAX_SLOTS / MK_CHUNK };

/** One hop: the AES-256 encryption schedules (15 round keys) of its IV key and of its layer key. */
typedef struct {
  _Alignas(16) uint8_t iv[ROUNDS + 1][16];
  _Alignas(16) uint8_t layer[ROUNDS + 1][16];
} mk_slot;

struct mk_ring {
  mk_slot *chunk[MK_CHUNKS];
  uint8_t live[MK_MAX_SLOTS];
  /** Free slot numbers (a stack), room for every allocated slot. */
  int32_t *free;
  int32_t nfree;
  /** Slots allocated (MK_CHUNK x chunks). */
  int32_t cap;
};

static mk_slot *slot_of(const mk_ring *r, int32_t s) { return r->chunk[s / MK_CHUNK] + s % MK_CHUNK; }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define MK_TARGET __attribute__((target("aes")))
#define MK_INLINE static inline __attribute__((always_inline, target("aes")))

static int cpu_aes = -1;

int mk_available(void) {
  if (cpu_aes < 0) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    cpu_aes = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 25)) != 0;  // CPUID.1:ECX.AES[bit 25]
  }
  return cpu_aes;
}

const char *mk_kernel_name(void) { return mk_available() ? "aesni" : ""; }

/**
 * Zeroes xmm0-15 before a kernel returns: round keys and states left in them would otherwise reach memory whenever
 * later code saves the vector registers (a lazy symbol binding, a signal frame).
 */
MK_INLINE void zero_vector_registers(void) {
  __asm__ __volatile__(
      "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
      "pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\tpxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\t"
      "pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
      "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\tpxor %%xmm15, %%xmm15"
      ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "xmm13", "xmm14", "xmm15");
}

// AES-256 key expansion (FIPS-197 §5.2) with AESKEYGENASSIST: even round keys take RotWord+SubWord+Rcon of the
// previous odd one, odd ones SubWord of the previous even one.
MK_INLINE __m128i spread(__m128i k) {
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  return _mm_xor_si128(k, _mm_slli_si128(k, 4));
}

#define EVEN(i, rcon) \
  rk[i] = _mm_xor_si128(spread(rk[i - 2]), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[i - 1], rcon), 0xff))
#define ODD(i) rk[i] = _mm_xor_si128(spread(rk[i - 2]), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[i - 1], 0), 0xaa))

MK_TARGET static void expand(uint8_t out[ROUNDS + 1][16], const uint8_t *key) {
  __m128i rk[ROUNDS + 1];
  rk[0] = _mm_loadu_si128((const __m128i *)key);
  rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
  EVEN(2, 0x01); ODD(3);
  EVEN(4, 0x02); ODD(5);
  EVEN(6, 0x04); ODD(7);
  EVEN(8, 0x08); ODD(9);
  EVEN(10, 0x10); ODD(11);
  EVEN(12, 0x20); ODD(13);
  EVEN(14, 0x40);
  for (int i = 0; i <= ROUNDS; i++) _mm_store_si128((__m128i *)out[i], rk[i]);
  OPENSSL_cleanse(rk, sizeof rk);
  zero_vector_registers();
}
#undef EVEN
#undef ODD

/**
 * The round keys of K hops side by side, round-major: IV key round i of hop c at [i * K + c], layer key round i at
 * [(ROUNDS + 1 + i) * K + c]. K is a constant in each kernel, so every round key is a base register + a constant.
 */
#define IVK(k, i, c) (k)[(i) * K + (c)]
#define LAYERK(k, i, c) (k)[(ROUNDS + 1 + (i)) * K + (c)]
enum { SCHED_MAX = 2 * (ROUNDS + 1) * 8 };

/**
 * Copies the schedules of the K slots into k. A separate call, and the kernel reads k through a pointer, so the
 * compiler cannot keep copies of it elsewhere on the stack: the one copy is wiped by mk_encrypt.
 */
MK_TARGET __attribute__((noinline)) static void gather(__m128i *k, const mk_ring *r, const int32_t *slot, const int K) {
  for (int c = 0; c < K; c++) {
    const mk_slot *e = slot_of(r, slot[c]);
    for (int i = 0; i <= ROUNDS; i++) {
      IVK(k, i, c) = _mm_load_si128((const __m128i *)e->iv[i]);
      LAYERK(k, i, c) = _mm_load_si128((const __m128i *)e->layer[i]);
    }
  }
  zero_vector_registers();
}

/** P on K bodies at once (K a constant after inlining), with the schedules gathered in k. */
MK_INLINE void enc_group(const __m128i *k, uint8_t *buf, const int32_t *at, const int K) {
  uint8_t *m[8];
  __m128i x[8], s[8];
#pragma GCC unroll 8
  for (int c = 0; c < K; c++) m[c] = buf + at[c] + IV_AT;
  // X = E(ivKey, IV)
#pragma GCC unroll 8
  for (int c = 0; c < K; c++) x[c] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)m[c]), IVK(k, 0, c));
  for (int i = 1; i < ROUNDS; i++) {
#pragma GCC unroll 8
    for (int c = 0; c < K; c++) x[c] = _mm_aesenc_si128(x[c], IVK(k, i, c));
  }
#pragma GCC unroll 8
  for (int c = 0; c < K; c++) s[c] = x[c] = _mm_aesenclast_si128(x[c], IVK(k, ROUNDS, c));
  // data = CBC-E(layerKey, X, data): block j of the K chains round by round.
  for (int j = 0; j < BLOCKS; j++) {
    const size_t off = 16 + 16 * (size_t)j;
#pragma GCC unroll 8
    for (int c = 0; c < K; c++)
      s[c] = _mm_xor_si128(_mm_xor_si128(s[c], _mm_loadu_si128((const __m128i *)(m[c] + off))), LAYERK(k, 0, c));
#pragma GCC unroll 13
    for (int i = 1; i < ROUNDS; i++) {
#pragma GCC unroll 8
      for (int c = 0; c < K; c++) s[c] = _mm_aesenc_si128(s[c], LAYERK(k, i, c));
    }
#pragma GCC unroll 8
    for (int c = 0; c < K; c++) {
      s[c] = _mm_aesenclast_si128(s[c], LAYERK(k, ROUNDS, c));
      _mm_storeu_si128((__m128i *)(m[c] + off), s[c]);
    }
  }
  // IV' = E(ivKey, X)
#pragma GCC unroll 8
  for (int c = 0; c < K; c++) x[c] = _mm_xor_si128(x[c], IVK(k, 0, c));
  for (int i = 1; i < ROUNDS; i++) {
#pragma GCC unroll 8
    for (int c = 0; c < K; c++) x[c] = _mm_aesenc_si128(x[c], IVK(k, i, c));
  }
#pragma GCC unroll 8
  for (int c = 0; c < K; c++) _mm_storeu_si128((__m128i *)m[c], _mm_aesenclast_si128(x[c], IVK(k, ROUNDS, c)));
  zero_vector_registers();
}

MK_TARGET __attribute__((noinline)) static void enc8(const __m128i *k, uint8_t *b, const int32_t *a) {
  enc_group(k, b, a, 8);
}
MK_TARGET __attribute__((noinline)) static void enc4(const __m128i *k, uint8_t *b, const int32_t *a) {
  enc_group(k, b, a, 4);
}
MK_TARGET __attribute__((noinline)) static void enc2(const __m128i *k, uint8_t *b, const int32_t *a) {
  enc_group(k, b, a, 2);
}
MK_TARGET __attribute__((noinline)) static void enc1(const __m128i *k, uint8_t *b, const int32_t *a) {
  enc_group(k, b, a, 1);
}

void mk_encrypt(const mk_ring *r, uint8_t *buf, const int32_t *at, const int32_t *slot, int32_t n) {
  __m128i k[SCHED_MAX];
  int32_t i = 0;
  for (; n - i >= 8; i += 8) {
    gather(k, r, slot + i, 8);
    enc8(k, buf, at + i);
  }
  // What the tail groups use is a prefix of k, within what the 8-wide groups used: one wipe covers all of it.
  const int32_t wide = i > 0 ? 8 : 0;
  int tail = 0;
  if (n - i >= 4) {
    gather(k, r, slot + i, 4);
    enc4(k, buf, at + i);
    i += 4;
    tail = 4;
  }
  if (n - i >= 2) {
    gather(k, r, slot + i, 2);
    enc2(k, buf, at + i);
    i += 2;
    if (tail < 2) tail = 2;
  }
  if (n - i >= 1) {
    gather(k, r, slot + i, 1);
    enc1(k, buf, at + i);
    if (tail < 1) tail = 1;
  }
  const int used = wide > tail ? (int)wide : tail;
  OPENSSL_cleanse(k, sizeof(__m128i) * 2 * (ROUNDS + 1) * (size_t)used);
}

/** The decryption schedule (equivalent inverse cipher, FIPS-197 §5.3.5) of an encryption schedule. */
MK_INLINE void inverse(__m128i dk[ROUNDS + 1], const uint8_t ek[ROUNDS + 1][16]) {
  dk[0] = _mm_load_si128((const __m128i *)ek[ROUNDS]);
  for (int i = 1; i < ROUNDS; i++) dk[i] = _mm_aesimc_si128(_mm_load_si128((const __m128i *)ek[ROUNDS - i]));
  dk[ROUNDS] = _mm_load_si128((const __m128i *)ek[0]);
}

MK_INLINE __m128i dec_block(__m128i v, const __m128i dk[ROUNDS + 1]) {
  v = _mm_xor_si128(v, dk[0]);
  for (int i = 1; i < ROUNDS; i++) v = _mm_aesdec_si128(v, dk[i]);
  return _mm_aesdeclast_si128(v, dk[ROUNDS]);
}

/** Blocks of one message decrypted side by side (63 = 7 x 9). */
enum { DEC_WIDTH = 9 };

/** P^-1 on one body: X = D(ivKey, IV); data = CBC-D(layerKey, X, data); IV = D(ivKey, X). */
MK_TARGET static void dec_one(const mk_slot *e, uint8_t *m) {
  __m128i di[ROUNDS + 1], dl[ROUNDS + 1];
  inverse(di, e->iv);
  inverse(dl, e->layer);
  const __m128i x = dec_block(_mm_loadu_si128((const __m128i *)m), di);
  __m128i prev = x;
  uint8_t *d = m + (DATA_AT - IV_AT);
  for (int j = 0; j < BLOCKS; j += DEC_WIDTH) {
    __m128i s[DEC_WIDTH];
#pragma GCC unroll 9
    for (int b = 0; b < DEC_WIDTH; b++) s[b] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(d + 16 * (j + b))), dl[0]);
    for (int i = 1; i < ROUNDS; i++) {
#pragma GCC unroll 9
      for (int b = 0; b < DEC_WIDTH; b++) s[b] = _mm_aesdec_si128(s[b], dl[i]);
    }
    // Every ciphertext block this group needs is read before the first plaintext block is written over it.
    s[0] = _mm_xor_si128(_mm_aesdeclast_si128(s[0], dl[ROUNDS]), prev);
#pragma GCC unroll 9
    for (int b = 1; b < DEC_WIDTH; b++)
      s[b] = _mm_xor_si128(_mm_aesdeclast_si128(s[b], dl[ROUNDS]), _mm_loadu_si128((const __m128i *)(d + 16 * (j + b - 1))));
    prev = _mm_loadu_si128((const __m128i *)(d + 16 * (j + DEC_WIDTH - 1)));
#pragma GCC unroll 9
    for (int b = 0; b < DEC_WIDTH; b++) _mm_storeu_si128((__m128i *)(d + 16 * (j + b)), s[b]);
  }
  _mm_storeu_si128((__m128i *)m, dec_block(x, di));
  OPENSSL_cleanse(di, sizeof di);
  OPENSSL_cleanse(dl, sizeof dl);
  zero_vector_registers();
}

void mk_decrypt(const mk_ring *r, uint8_t *buf, const int32_t *at, const int32_t *slot, int32_t n) {
  for (int32_t i = 0; i < n; i++) dec_one(slot_of(r, slot[i]), buf + at[i] + IV_AT);
}

#else  // no AES-NI kernel on this platform: the addon keeps its OpenSSL path

int mk_available(void) { return 0; }
const char *mk_kernel_name(void) { return ""; }
static void expand(uint8_t out[ROUNDS + 1][16], const uint8_t *key) {
  (void)out;
  (void)key;
}
void mk_encrypt(const mk_ring *r, uint8_t *buf, const int32_t *at, const int32_t *slot, int32_t n) {
  (void)r, (void)buf, (void)at, (void)slot, (void)n;
}
void mk_decrypt(const mk_ring *r, uint8_t *buf, const int32_t *at, const int32_t *slot, int32_t n) {
  (void)r, (void)buf, (void)at, (void)slot, (void)n;
}
#endif

mk_ring *mk_ring_new(void) { return calloc(1, sizeof(mk_ring)); }

void mk_ring_free(mk_ring *r) {
  if (r == NULL) return;
  for (int i = 0; i < MK_CHUNKS; i++) {
    if (r->chunk[i] == NULL) continue;
    OPENSSL_cleanse(r->chunk[i], sizeof(mk_slot) * MK_CHUNK);
    free(r->chunk[i]);
  }
  free(r->free);
  free(r);
}

int32_t mk_ring_add(mk_ring *r, const uint8_t *layer_key, const uint8_t *iv_key) {
  if (!mk_available()) return -1;
  if (r->nfree == 0) {
    if (r->cap >= MK_MAX_SLOTS) return -1;
    int32_t *f = realloc(r->free, sizeof *f * (size_t)(r->cap + MK_CHUNK));
    if (f == NULL) return -1;
    r->free = f;
    mk_slot *c = aligned_alloc(64, sizeof(mk_slot) * MK_CHUNK);
    if (c == NULL) return -1;
    r->chunk[r->cap / MK_CHUNK] = c;
    // Lowest slot on top: a ring that is filled and emptied in order reuses its first chunk first.
    for (int32_t i = MK_CHUNK - 1; i >= 0; i--) r->free[r->nfree++] = r->cap + i;
    r->cap += MK_CHUNK;
  }
  const int32_t s = r->free[--r->nfree];
  mk_slot *e = slot_of(r, s);
  expand(e->layer, layer_key);
  expand(e->iv, iv_key);
  r->live[s] = 1;
  return s;
}

void mk_ring_wipe(mk_ring *r, int32_t slot) {
  if (slot < 0 || slot >= r->cap || !r->live[slot]) return;
  OPENSSL_cleanse(slot_of(r, slot), sizeof(mk_slot));
  r->live[slot] = 0;
  r->free[r->nfree++] = slot;
}

int mk_ring_keys(const mk_ring *r, int32_t slot, uint8_t *layer_key, uint8_t *iv_key) {
  if (!mk_ring_live(r, slot)) return 0;
  const mk_slot *e = slot_of(r, slot);
  memcpy(layer_key, e->layer, 32);
  memcpy(iv_key, e->iv, 32);
  return 1;
}

int mk_ring_live(const mk_ring *r, int32_t slot) { return slot >= 0 && slot < r->cap && r->live[slot]; }

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

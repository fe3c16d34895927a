// The multi-key AES-NI kernel of the native AES layer (aes_multikey.c): per-tunnel expanded round keys in a keyring
// and P / P^-1 (tunnel-crypto-aes.md §2) over messages of different tunnels in one call. The Node-API side is in
// aes_layer.c.
#ifndef TUNNELPLANE_AES_MULTIKEY_H
#define TUNNELPLANE_AES_MULTIKEY_H
#include <stdint.h>

// Internal to the addon: not exported from it.
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/** Most slots one keyring holds (one per hop): a cap, so a flood of joins cannot grow it without bound. */
enum { MK_MAX_SLOTS = 1 << 16 };

typedef struct mk_ring mk_ring;

/** Non-zero when this CPU runs the kernel (x86-64 with AES-NI and SSE4.1, checked with CPUID once). */
int mk_available(void);
/** The kernel's name for reports ("aesni"), or "" where it does not run. */
const char *mk_kernel_name(void);

mk_ring *mk_ring_new(void);
/** Wipes every slot's round keys and frees the ring. */
void mk_ring_free(mk_ring *r);
/** Expands the two keys into a free slot: its index, or -1 when the ring is full or out of memory. */
int32_t mk_ring_add(mk_ring *r, const uint8_t *layer_key, const uint8_t *iv_key);
/** Wipes a slot's round keys and frees it; a slot not in use is left alone. */
void mk_ring_wipe(mk_ring *r, int32_t slot);
/**
 * The slot's two keys (an AES-256 schedule starts with its key) into layer_key and iv_key, 32 bytes each, for a hop
 * that needs OpenSSL contexts after all; the caller wipes them. 0 when the slot is not in use.
 */
int mk_ring_keys(const mk_ring *r, int32_t slot, uint8_t *layer_key, uint8_t *iv_key);
/** 1 when slot is in use (the check every kernel argument passes). */
int mk_ring_live(const mk_ring *r, int32_t slot);

/**
 * P on n bodies (body[4..1028) of buf + at[i]) with the keys of slot[i], chains of different bodies interleaved.
 * Offsets and slots must have been checked (in bounds, live); bodies that overlap get unspecified bytes.
 */
void mk_encrypt(const mk_ring *r, uint8_t *buf, const int32_t *at, const int32_t *slot, int32_t n);
/** P^-1 on the n (body, slot) records in order: a creator strip lists a body once per hop, last hop first. */
void mk_decrypt(const mk_ring *r, uint8_t *buf, const int32_t *at, const int32_t *slot, int32_t n);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif
#endif

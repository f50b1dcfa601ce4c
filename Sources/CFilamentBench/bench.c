#define _GNU_SOURCE
#include "filament_bench.h"
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// --- malloc counter: glibc's __libc_* entry points do the real work. ---
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static _Atomic uint64_t filament_calls;

void *malloc(size_t n) {
    atomic_fetch_add_explicit(&filament_calls, 1, memory_order_relaxed);
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    atomic_fetch_add_explicit(&filament_calls, 1, memory_order_relaxed);
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    atomic_fetch_add_explicit(&filament_calls, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}
void *memalign(size_t a, size_t n) {
    atomic_fetch_add_explicit(&filament_calls, 1, memory_order_relaxed);
    return __libc_memalign(a, n);
}
void *aligned_alloc(size_t a, size_t n) {
    atomic_fetch_add_explicit(&filament_calls, 1, memory_order_relaxed);
    return __libc_memalign(a, n);
}
int posix_memalign(void **out, size_t a, size_t n) {
    atomic_fetch_add_explicit(&filament_calls, 1, memory_order_relaxed);
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

uint64_t filament_bench_malloc_calls(void) { return atomic_load(&filament_calls); }

// --- the C reference loop ---
uint64_t filament_bench_c_seal_open(uint64_t iterations, size_t length) {
    if (sodium_init() < 0) return iterations;
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    unsigned char *plain = calloc(1, length);
    unsigned char *frame = calloc(1, length + 32);
    unsigned char *out = calloc(1, length);
    uint64_t failures = 0;
    const uint32_t index = 0x01020304u;
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char nonce[12] = {0};
        memcpy(nonce + 4, &i, 8);  // little-endian host
        frame[0] = 0x04; frame[1] = frame[2] = frame[3] = 0;
        memcpy(frame + 4, &index, 4);
        memcpy(frame + 8, &i, 8);
        unsigned long long clen = 0;
        crypto_aead_chacha20poly1305_ietf_encrypt(frame + 16, &clen, plain, length, NULL, 0, NULL, nonce, key);
        uint64_t n;
        memcpy(&n, frame + 8, 8);
        unsigned char rnonce[12] = {0};
        memcpy(rnonce + 4, &n, 8);
        unsigned long long mlen = 0;
        if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, frame + 16, clen, NULL, 0, rnonce, key) != 0) failures++;
    }
    free(plain); free(frame); free(out);
    return failures;
}

// CFilamentBench exists only for filament-bench-crypto: a plain C libsodium loop to compare the
// Swift transport path against, and a malloc counter (it interposes malloc & co. in the benchmark
// executable only; nothing else links this target).
#ifndef FILAMENT_BENCH_H
#define FILAMENT_BENCH_H
#include <stddef.h>
#include <stdint.h>

/// Number of malloc/calloc/realloc/aligned allocations made by the process so far.
uint64_t filament_bench_malloc_calls(void);

/// Seals and opens `iterations` packets of `length` bytes with crypto_aead_chacha20poly1305_ietf,
/// writing the same 16-byte header the Swift transport frame has. Returns the number of packets
/// that failed to open (0 expected).
uint64_t filament_bench_c_seal_open(uint64_t iterations, size_t length);

#endif

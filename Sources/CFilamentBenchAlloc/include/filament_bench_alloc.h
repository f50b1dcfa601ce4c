// Counts heap allocations of the benchmark process (malloc family interposed in the executable).
// Exists only for filament-bench-engine; nothing else links it.
#pragma once
#include <stddef.h>
unsigned long long filament_bench_allocations(void);
/// Bytes in use on the heap (glibc mallinfo2: arena in-use + mmapped blocks).
size_t filament_bench_heap_in_use(void);

// Declares libFuzzer's driver entry so a Swift executable can keep its own `main` (SwiftPM renames the
// Swift entry point and points `main` at it) and hand control to libFuzzer. The symbol exists only
// when linking with -sanitize=fuzzer, which is why the fuzz targets are gated by FILAMENT_FUZZ.
#ifndef FILAMENT_FUZZ_DRIVER_H
#define FILAMENT_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif

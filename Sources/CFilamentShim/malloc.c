#include "filament_shim.h"

#include <malloc.h>

int filament_malloc_fixed_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

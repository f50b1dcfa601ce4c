// CSodium exists so Swift can import libsodium through pkg-config (`libsodium`).
// Only FilamentCrypto imports it; no libsodium type reaches public Swift API.
#include <sodium.h>

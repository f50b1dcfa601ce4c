/* Linked into the static filamentd only (packaging/build-static.sh, STATIC_C_LIBS=1).
 *
 * libsodium 1.0.18's sodium_init() calls the "pick best implementation" routine of every primitive
 * that has CPU-specific code, including two filamentd never uses: Argon2 (crypto_pwhash) and
 * Salsa20 (crypto_stream_salsa20, crypto_box, crypto_secretbox). Linked from libsodium.a, those
 * calls pull in the Argon2 core and its four fill-block implementations and both Salsa20
 * implementations: 34 KB of code that can never run. These two definitions satisfy sodium_init()'s
 * references instead, so those archive members stay out; they do what the real ones do when the
 * primitive is never called (nothing) and return 0 like them.
 *
 * If filamentd ever calls Argon2 or Salsa20, the archive member that defines the real routine is
 * pulled in and the link fails with a duplicate symbol: nothing can silently run without its
 * implementation being selected. Measured by packaging/build-static.sh (decision 0804). */
int _crypto_pwhash_argon2_pick_best_implementation(void);
int _crypto_stream_salsa20_pick_best_implementation(void);

int _crypto_pwhash_argon2_pick_best_implementation(void) { return 0; }
int _crypto_stream_salsa20_pick_best_implementation(void) { return 0; }

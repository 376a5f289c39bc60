/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the redaction
 * filter's pseudonyms: a few hundred lines here spare every user a
 * dependency on a crypto library. */
#ifndef MWATCH_SHA256_PRIVATE_H
#define MWATCH_SHA256_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#define MWATCH_SHA256_LEN 32

typedef struct {
   uint32_t state[8];
   uint64_t total; /* bytes hashed so far */
   uint8_t block[64];
   size_t used; /* bytes waiting in `block` */
} mwatch_sha256_t;

void
_mwatch_sha256_init (mwatch_sha256_t *ctx);

void
_mwatch_sha256_update (mwatch_sha256_t *ctx, const void *data, size_t len);

void
_mwatch_sha256_final (mwatch_sha256_t *ctx, uint8_t digest[MWATCH_SHA256_LEN]);

/* A keyed HMAC state.  Initialise it once per key and copy it (it is plain
 * data) for each message: the key's two blocks are then hashed only once. */
typedef struct {
   mwatch_sha256_t inner;
   mwatch_sha256_t outer;
} mwatch_hmac_sha256_t;

void
_mwatch_hmac_sha256_init (mwatch_hmac_sha256_t *ctx, const void *key, size_t key_len);

void
_mwatch_hmac_sha256_update (mwatch_hmac_sha256_t *ctx, const void *data, size_t len);

void
_mwatch_hmac_sha256_final (mwatch_hmac_sha256_t *ctx, uint8_t mac[MWATCH_SHA256_LEN]);

#endif

/* MWATCH_FAST_TLS: thread-locals on the per-call and per-record paths.
 * The initial-exec model reaches them with one instruction instead of a
 * __tls_get_addr call.  The library is loaded at start-up (linked, or
 * LD_PRELOAD), where that model is safe. */
#ifndef MWATCH_FAST_TLS_PRIVATE_H
#define MWATCH_FAST_TLS_PRIVATE_H

#define MWATCH_FAST_TLS __attribute__ ((tls_model ("initial-exec")))

#endif

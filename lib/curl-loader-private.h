/* libcurl, loaded when the first otlp handler is made rather than linked.
 *
 * libmongowatch goes into every program the mask is preloaded in: linking
 * libcurl made each of them map libcurl and its dependencies (TLS, HTTP/2,
 * SSH, LDAP, Kerberos) at start, with no otlp handler configured.  So the
 * library is compiled against <curl/curl.h> for its types and constants
 * only, and the few functions the otlp handler calls come from
 * dlopen("libcurl.so.4") through the table below. */
#ifndef MWATCH_CURL_LOADER_PRIVATE_H
#define MWATCH_CURL_LOADER_PRIVATE_H

#include <bson/bson.h>
#include <curl/curl.h>
#include <stdbool.h>

/* The soname loaded: libcurl4 (any of its TLS flavours) on Debian. */
#define MWATCH_CURL_SONAME "libcurl.so.4"
/* The Debian package that provides it, for the error. */
#define MWATCH_CURL_PACKAGE "libcurl4"

typedef struct {
   CURL *(*easy_init) (void);
   CURLcode (*easy_setopt) (CURL *curl, CURLoption option, ...);
   CURLcode (*easy_perform) (CURL *curl);
   CURLcode (*easy_getinfo) (CURL *curl, CURLINFO info, ...);
   void (*easy_cleanup) (CURL *curl);
   const char *(*easy_strerror) (CURLcode code);
   struct curl_slist *(*slist_append) (struct curl_slist *list, const char *text);
   void (*slist_free_all) (struct curl_slist *list);
} mwatch_curl_api_t;

/* libcurl's functions, loaded and curl_global_init'ed once per process
 * (thread-safe: the first caller loads, the others wait for it); the same
 * table at every call, never unloaded.  NULL with `error` set (naming
 * libcurl.so.4 and the package to install) when libcurl cannot be loaded,
 * lacks a function or fails to initialize; the failure is kept, later
 * calls give the same error. */
const mwatch_curl_api_t *
_mwatch_curl_api (bson_error_t *error);

/* For the unit tests only (no environment variable reaches it): later
 * calls of _mwatch_curl_api load `soname` instead, each time, uncached;
 * NULL restores the real, cached one. */
void
_mwatch_curl_set_soname_for_test (const char *soname);

#endif

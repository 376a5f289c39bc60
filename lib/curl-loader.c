/* libcurl loaded on first use (see curl-loader-private.h for why).
 *
 * RTLD_LOCAL: libcurl's symbols and its dependencies' stay out of the
 * program's global namespace, so a program with a libcurl (or an OpenSSL)
 * of its own keeps resolving to its own.  RTLD_NOW: a broken libcurl fails
 * here, at the handler's construction, with an error, not later in the
 * sending thread.
 *
 * curl_global_init runs once, here, under pthread_once.  It is thread-safe
 * itself since libcurl 7.84 (Debian 12 has 7.88), so a program or another
 * library calling it at the same time is harmless; with an older libcurl
 * it is as safe as the program's own first use of libcurl.  Its
 * curl_global_cleanup is never called: libcurl stays loaded to the end of
 * the process, as a linked libcurl did. */
#include "curl-loader-private.h"
#include "mongowatch.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static mwatch_curl_api_t loaded;
static bool loaded_ok;
static bson_error_t load_error;
/* _mwatch_curl_set_soname_for_test's. */
static _Atomic (const char *) test_soname;
static mwatch_curl_api_t test_api;

#define FAIL_HINT                                                                              \
   "; the otlp handler needs libcurl at run time (install the Debian package " MWATCH_CURL_PACKAGE \
   ", which provides " MWATCH_CURL_SONAME ")"

/* Loads `soname` into `api`; false with `error` set. */
static bool
load (const char *soname, mwatch_curl_api_t *api, bson_error_t *error)
{
   void *handle = dlopen (soname, RTLD_NOW | RTLD_LOCAL);
   if (!handle) {
      const char *why = dlerror ();
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "otlp handler: cannot load %s (%s)" FAIL_HINT, soname,
                      why ? why : "no reason given");
      return false;
   }
   static const struct {
      const char *name;
      size_t offset;
   } fns[] = {
      {"curl_easy_init", offsetof (mwatch_curl_api_t, easy_init)},
      {"curl_easy_setopt", offsetof (mwatch_curl_api_t, easy_setopt)},
      {"curl_easy_perform", offsetof (mwatch_curl_api_t, easy_perform)},
      {"curl_easy_getinfo", offsetof (mwatch_curl_api_t, easy_getinfo)},
      {"curl_easy_cleanup", offsetof (mwatch_curl_api_t, easy_cleanup)},
      {"curl_easy_strerror", offsetof (mwatch_curl_api_t, easy_strerror)},
      {"curl_slist_append", offsetof (mwatch_curl_api_t, slist_append)},
      {"curl_slist_free_all", offsetof (mwatch_curl_api_t, slist_free_all)},
   };
   for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
      void *fn = dlsym (handle, fns[i].name);
      if (!fn) {
         bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                         "otlp handler: %s has no %s: not a usable libcurl" FAIL_HINT, soname,
                         fns[i].name);
         dlclose (handle);
         return false;
      }
      /* POSIX makes a function pointer and void * interchangeable. */
      memcpy ((char *) api + fns[i].offset, &fn, sizeof fn);
   }
   CURLcode (*global_init) (long flags);
   void *init = dlsym (handle, "curl_global_init");
   if (!init) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "otlp handler: %s has no curl_global_init: not a usable libcurl" FAIL_HINT,
                      soname);
      dlclose (handle);
      return false;
   }
   memcpy (&global_init, &init, sizeof init);
   CURLcode rc = global_init (CURL_GLOBAL_DEFAULT);
   if (rc != CURLE_OK) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_IO,
                      "otlp handler: libcurl could not be initialized (%s)",
                      api->easy_strerror (rc));
      /* Initialized in part perhaps: left loaded. */
      return false;
   }
   return true;
}

static void
load_real (void)
{
   loaded_ok = load (MWATCH_CURL_SONAME, &loaded, &load_error);
}

const mwatch_curl_api_t *
_mwatch_curl_api (bson_error_t *error)
{
   const char *soname = atomic_load (&test_soname);
   if (soname) {
      return load (soname, &test_api, error) ? &test_api : NULL;
   }
   pthread_once (&load_once, load_real);
   if (!loaded_ok) {
      if (error) {
         *error = load_error;
      }
      return NULL;
   }
   return &loaded;
}

void
_mwatch_curl_set_soname_for_test (const char *soname)
{
   atomic_store (&test_soname, soname);
}

/* Resolving the real libmongoc functions, and the record of whether they
 * were ever called and ever patched. */
#include "shutdown-private.h"
#include "interpose-private.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

atomic_bool _mwatch_patched;
_Thread_local int _mwatch_depth MWATCH_FAST_TLS;

/* For the shutdown's check that a program which set up logging did not
 * forget to patch: set at the first call of each wrapped mongoc function,
 * in its resolution (so the pass-through stays as it is), and by a
 * successful mwatch_patch_mongoc. */
static atomic_bool mongoc_called;
static atomic_bool ever_patched;
static atomic_bool never_patched_reported;

#define LIBMONGOC_SONAME "libmongoc-1.0.so.0"

void *
_mwatch_resolve (mwatch_sym_t *sym)
{
   void *fn = dlsym (RTLD_NEXT, sym->name);
   if (!fn) {
      void *handle = dlopen (LIBMONGOC_SONAME, RTLD_LAZY | RTLD_NOLOAD);
      if (handle) {
         fn = dlsym (handle, sym->name);
         dlclose (handle);
      }
   }
   if (!fn) {
      fprintf (stderr,
               "mongowatch: cannot find the real %s in libmongoc; is %s loaded? (%s)\n",
               sym->name, LIBMONGOC_SONAME, dlerror ());
      abort ();
   }
   atomic_store_explicit (&sym->fn, fn, memory_order_release);
   atomic_store_explicit (&mongoc_called, true, memory_order_relaxed);
   /* From now on the shutdown's check has something to check. */
   _mwatch_shutdown_register (MWATCH_SHUTDOWN_CHECKS, _mwatch_report_never_patched);
   return fn;
}

void
_mwatch_note_patched (void)
{
   atomic_store (&ever_patched, true);
}

void
_mwatch_report_never_patched (void)
{
   if (atomic_load (&ever_patched) || !atomic_load (&mongoc_called) ||
       (!mwatch_logger_has_handlers (mwatch_logger_get ("mongowatch.cursor")) &&
        !mwatch_logger_has_handlers (mwatch_logger_get ("mongowatch.collection"))) ||
       atomic_exchange (&never_patched_reported, true)) {
      return;
   }
   fprintf (stderr,
            "mongowatch: handlers were installed for the mongowatch loggers and the "
            "program called libmongoc, but mwatch_patch_mongoc() was never called (or "
            "never succeeded), so no operation was logged; call it once after setting "
            "up logging (see mongowatch(3))\n");
}

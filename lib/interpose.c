/* Resolving the real libmongoc functions, and patching on and off. */
#include "interpose.h"
#include "logging-private.h"

#include <dlfcn.h>
#include <link.h>
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
   _mwatch_logging_set_shutdown_check (_mwatch_report_never_patched);
   return fn;
}

/* dl_iterate_phdr lists the main program first. */
static int
first_object_contains (struct dl_phdr_info *info, size_t size, void *data)
{
   (void) size;
   uintptr_t addr = (uintptr_t) * (void **) data;
   for (int i = 0; i < info->dlpi_phnum; i++) {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      uintptr_t start = info->dlpi_addr + ph->p_vaddr;
      if (ph->p_type == PT_LOAD && addr >= start && addr < start + ph->p_memsz) {
         *(void **) data = NULL; /* found */
         break;
      }
   }
   return 1; /* stop after the first object */
}

/* True when mongowatch was linked statically into the main program: its
 * definitions then serve the program's own calls whatever the dynamic
 * symbol table says (the program does not export them). */
static bool
linked_into_program (void *own)
{
   void *probe = own;
   dl_iterate_phdr (first_object_contains, &probe);
   return probe == NULL;
}

bool
mwatch_patch_mongoc (bson_error_t *error)
{
   void *own = _mwatch_own_cursor_next ();
   void *chosen = dlsym (RTLD_DEFAULT, "mongoc_cursor_next");
   if (chosen && chosen != own && !linked_into_program (own)) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_NOT_INTERPOSED,
                      "mongowatch cannot watch: libmongoc comes before libmongowatch in "
                      "this program's symbol search order, so the application's mongoc "
                      "calls never reach mongowatch; link with -lmongowatch before "
                      "-lmongoc-1.0 (as `pkg-config --libs mongowatch` does) or load it "
                      "with LD_PRELOAD=libmongowatch.so.0");
      return false;
   }
   atomic_store (&ever_patched, true);
   atomic_store (&_mwatch_patched, true);
   return true;
}

void
mwatch_unpatch_mongoc (void)
{
   atomic_store (&_mwatch_patched, false);
}

bool
mwatch_is_patched (void)
{
   return atomic_load (&_mwatch_patched);
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

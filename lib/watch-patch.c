/* Patching on and off, and the check that the link order lets the
 * application's mongoc calls reach mongowatch at all. */
#include "interpose-private.h"
#include "watch-cursor-private.h"

#include <dlfcn.h>
#include <link.h>

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
                      "-lmongoc-1.0 (as `pkg-config --libs mongowatch` does; with CMake, "
                      "link the target mongowatch::mongowatch of find_package(mongowatch)) "
                      "or load it with LD_PRELOAD=libmongowatch.so.0");
      return false;
   }
   _mwatch_note_patched ();
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

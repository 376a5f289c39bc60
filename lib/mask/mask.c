/* The mask: libmongowatch-preload.so, preloaded into a program that was
 * built without mongowatch (LD_PRELOAD, or `mongowatch run`), patches
 * libmongoc and loads the configuration before main runs.
 *
 * The preload library holds the whole of libmongowatch, not a dependency
 * on it: a library a preloaded object merely depends on enters the symbol
 * search order after the program's own libmongoc, and its mongoc_*
 * wrappers would never be called.
 *
 * A broken configuration must not break the program: it is reported once
 * on stderr and the default handler (stderr) takes over, so the audit
 * trail goes on.  MONGOWATCH_STRICT=1 makes it fatal instead, before main.
 * Nothing is ever written to stdout.
 *
 * LD_PRELOAD reaches every process a program starts (`mongowatch run --
 * ./start.sh` masks the shell too), and the mask brings libmongoc with it.
 * A process in which nothing but the mask needs libmongoc is still
 * patched and configured (it may dlopen a plugin that uses MongoDB); it
 * reports, and MONGOWATCH_STRICT stops it, only when such a plugin calls
 * mongoc_init.
 *
 * Reports go to stderr when it is a terminal, a file or a pipe, else to
 * /dev/log: a daemon's stderr is /dev/null or a reused descriptor.  The
 * mask makes file handlers open their files at the first record (delay),
 * since it configures before main, before a daemon forks and closes its
 * descriptors. */
#include "mongowatch.h"
#include "../handler-private.h"
#include "../report-private.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


static const void *mask_base; /* the mask's own load address */

/* Whether the loaded object `info` (other than the mask) lists libmongoc
 * among the libraries it needs. */
static int
needs_mongoc (struct dl_phdr_info *info, size_t size, void *found)
{
   BSON_UNUSED (size);
   if ((const void *) info->dlpi_addr == mask_base) {
      return 0;
   }
   const ElfW (Dyn) *dyn = NULL;
   for (int i = 0; i < info->dlpi_phnum; i++) {
      if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
         dyn = (const ElfW (Dyn) *) (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
      }
   }
   const char *strtab = NULL;
   for (const ElfW (Dyn) *d = dyn; d && d->d_tag != DT_NULL; d++) {
      if (d->d_tag == DT_STRTAB) {
         /* glibc relocates the dynamic section in place on most targets;
          * where it does not, the value is still relative. */
         ElfW (Addr) addr = d->d_un.d_ptr;
         strtab = (const char *) (addr < info->dlpi_addr ? info->dlpi_addr + addr : addr);
      }
   }
   for (const ElfW (Dyn) *d = dyn; strtab && d->d_tag != DT_NULL; d++) {
      if (d->d_tag == DT_NEEDED && strncmp (strtab + d->d_un.d_val, "libmongoc-", 10) == 0) {
         *(bool *) found = true;
         return 1;
      }
   }
   return 0;
}

static bool
process_uses_mongoc (void)
{
   Dl_info self;
   bool found = false;
   if (dladdr ((const void *) process_uses_mongoc, &self) == 0) {
      return true; /* cannot tell: say what there is to say */
   }
   mask_base = self.dli_fbase;
   dl_iterate_phdr (needs_mongoc, &found);
   return found;
}

/* A process in which only a dlopen'ed plugin will use libmongoc (a log
 * daemon's output module, a SIP server's database module) is quiet at
 * start: what the configuration search found is kept, and said when the
 * plugin calls mongoc_init (below), as is MONGOWATCH_STRICT's exit.  A
 * process that never initializes libmongoc (the shell of `mongowatch run
 * -- ./start.sh`) says nothing. */
static bool quiet;
static bool strict_failed;
/* Set when the constructor is done: libmongoc's own constructor (with
 * automatic init) calls mongoc_init before it, when there is nothing to
 * say yet. */
static atomic_bool configured;
#define MAX_PENDING 4
static char *pending[MAX_PENDING];
static int n_pending;

/* Says `message` now (stderr, or syslog when stderr is not usable), or
 * later in a quiet process. */
static void
say (const char *format, ...) BSON_GNUC_PRINTF (1, 2);

static void
say (const char *format, ...)
{
   va_list args;
   va_start (args, format);
   char *message = bson_strdupv_printf (format, args);
   va_end (args);
   if (!quiet) {
      _mwatch_report ("%s", message);
      bson_free (message);
   } else if (n_pending < MAX_PENDING) {
      pending[n_pending++] = message;
   } else {
      bson_free (message);
   }
}

static bool
strict (void)
{
   const char *value = getenv ("MONGOWATCH_STRICT");
   return value && *value && strcmp (value, "0") != 0;
}

/* MONGOWATCH_STRICT is set and the configuration failed: stop now, or,
 * in a quiet process, when a plugin initializes libmongoc. */
static void
strict_exit (void)
{
   strict_failed = true;
   if (!quiet) {
      say ("MONGOWATCH_STRICT is set: not starting the program");
      exit (1);
   }
   say ("MONGOWATCH_STRICT is set: stopping the program as it starts to use libmongoc");
}

/* The default handler (stderr) with the redact filter's defaults: with
 * no configuration, nothing the application stores or asks for is written
 * in clear.  A configuration file is how a user logs values in clear. */
static void
default_handler (const char *why)
{
   bson_error_t error;
   mwatch_handler_t *handlers[2] = {mwatch_handler_new_stream (NULL), NULL};
   mwatch_filter_t *redact = mwatch_filter_new_redact (NULL, &error);
   bool ok = redact != NULL;
   if (ok) {
      mwatch_handler_add_filter (handlers[0], redact);
      mwatch_filter_destroy (redact);
      ok = mwatch_add_logging_handlers (NULL, handlers, &error);
   }
   mwatch_handler_destroy (handlers[0]);
   if (ok) {
      say ("%s; auditing to stderr with the default handler", why);
   } else {
      say ("%s, and the default handler failed: %s", why, error.message);
   }
}

static bool
reaches_a_handler (void)
{
   return mwatch_logger_has_handlers (mwatch_logger_get ("mongowatch.cursor")) ||
          mwatch_logger_has_handlers (mwatch_logger_get ("mongowatch.collection"));
}

/* libmongoc's own mongoc_init, found past the mask, then what a quiet
 * process kept to say, once.  Only the mask defines it: a program linked
 * with libmongowatch reports at configuration time itself. */
MWATCH_EXPORT void
mongoc_init (void);

void
mongoc_init (void)
{
   static atomic_flag said = ATOMIC_FLAG_INIT;
   void (*real) (void);

   *(void **) &real = dlsym (RTLD_NEXT, "mongoc_init");
   if (atomic_load (&configured) && !atomic_flag_test_and_set (&said)) {
      for (int i = 0; i < n_pending; i++) {
         _mwatch_report ("%s", pending[i]);
         bson_free (pending[i]);
      }
      n_pending = 0;
      if (strict_failed) {
         exit (1);
      }
   }
   if (real) {
      real ();
   }
}

/* A process in which only the mask brought libmongoc (a shell, env, a
 * wrapper script: `mongowatch run -- ./start.sh`): libmongoc's automatic
 * init (as Debian builds it) has made its counters file,
 * /dev/shm/mongoc-PID, for nobody.  It would stay for good when the
 * process ends by _exit (dash does) or execs (keeping its PID, so that the
 * program it becomes finds the name taken and says "Falling back to malloc
 * for counters").  Its name goes now; the mapping, which is all libmongoc
 * uses, stays, and libmongoc's own cleanup at exit finds nothing to
 * remove.  The name is libmongoc 1.x's ("/mongoc-" and the PID); a process
 * that uses libmongoc itself keeps its file, as it would without the
 * mask. */
static void
forget_counters_file (void)
{
#if defined(MONGOC_ENABLE_SHM_COUNTERS) && !defined(MONGOC_NO_AUTOMATIC_GLOBALS)
   char name[32];
   bson_snprintf (name, sizeof name, "/mongoc-%u", (unsigned) getpid ());
   shm_unlink (name);
#endif
}

__attribute__ ((constructor)) static void
mwatch_mask_init (void)
{
   bson_error_t error;
   quiet = !process_uses_mongoc ();
   if (quiet) {
      forget_counters_file ();
   }
   /* Before main, a daemon has yet to fork and close its descriptors:
    * files are opened at the first record unless `delay: false`. */
   _mwatch_file_delay_by_default = true;
   if (!mwatch_patch_mongoc (&error)) {
      say ("%s", error.message);
      if (strict ()) {
         strict_exit ();
      }
      atomic_store (&configured, true);
      return;
   }
   size_t count = 0;
   char **paths = mwatch_config_search (&count);
   if (count == 0) {
      default_handler ("no configuration file found (see mongowatch.yaml(5), or set "
                       "MONGOWATCH_CONFIG=FILE)");
   } else if (!mwatch_config_load_files ((const char *const *) paths, count, &error)) {
      say ("%s", error.message);
      if (strict ()) {
         strict_exit ();
      }
      default_handler ("the configuration was not applied");
   } else if (!reaches_a_handler ()) {
      default_handler ("the configuration gives the watchers' loggers no handler");
   }
   bson_strfreev (paths);
   /* Opt-in, since it changes how the program takes SIGTERM and SIGINT
    * (they still end it, after the records are written). */
   const char *drain = getenv ("MONGOWATCH_DRAIN_ON_SIGNALS");
   if (drain && *drain && strcmp (drain, "0") != 0 && !mwatch_drain_on_signals (&error)) {
      say ("%s", error.message);
   }
   /* Opt-in too: SIGHUP then no longer ends a program that did not handle
    * it (logrotate's `postrotate kill -HUP` makes it reopen its files). */
   const char *reopen = getenv ("MONGOWATCH_REOPEN_ON_SIGHUP");
   if (reopen && *reopen && strcmp (reopen, "0") != 0 && !mwatch_reopen_on_sighup (&error)) {
      say ("%s", error.message);
   }
   atomic_store (&configured, true);
}

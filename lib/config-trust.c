/* Which files may configure this process.  A configuration decides what
 * the process writes where, and an ext:// plugin runs code in it: in a
 * program that runs with more privileges than its user (setuid, file
 * capabilities), an unprivileged user's file must not do either.  So a
 * configuration file or plugin is refused when someone other than root or
 * the process's (effective) user could have written it — it, or the folder
 * that holds it, is owned by another user, or is writable by group or
 * others (a sticky folder such as /tmp excepted, where only the owner can
 * replace a file).  The environment's say (MONGOWATCH_CONFIG, HOME, ...)
 * is ignored altogether in a secure-execution process: see
 * config-search.c. */
#include "config-trust-private.h"

#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
owner_is_trusted (uid_t uid)
{
   return uid == 0 || uid == geteuid ();
}

/* Why `st` (of `what` at `path`) could have been written by someone else,
 * into `why`; false when it could not. */
static bool
untrusted (const struct stat *st, bool folder, const char *what, const char *path, char *why,
           size_t size)
{
   if (!owner_is_trusted (st->st_uid)) {
      bson_snprintf (why, size,
                     "refused: %s %s is owned by uid %u, neither root nor the user this process "
                     "runs as (uid %u); give it to one of them",
                     what, path, (unsigned) st->st_uid, (unsigned) geteuid ());
      return true;
   }
   if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(folder && (st->st_mode & S_ISVTX))) {
      bson_snprintf (why, size,
                     "refused: %s %s is writable by %s (mode %04o); make it writable by its "
                     "owner only: chmod go-w %s",
                     what, path, (st->st_mode & S_IWOTH) ? "anyone" : "its group",
                     (unsigned) (st->st_mode & 07777), path);
      return true;
   }
   return false;
}

/* The folder holding `path`. */
static bool
folder_untrusted (const char *path, const char *what, char *why, size_t size)
{
   char *copy = bson_strdup (path);
   const char *dir = dirname (copy);
   struct stat st;
   bool bad = false;
   if (stat (dir, &st) == 0) {
      char label[64];
      bson_snprintf (label, sizeof label, "the folder of %s,", what);
      bad = untrusted (&st, true, label, dir, why, size);
   }
   bson_free (copy);
   return bad;
}

bool
_mwatch_fd_is_trusted (int fd, const char *path, const char *what, char *why, size_t size)
{
   struct stat st;
   if (fstat (fd, &st) != 0) {
      bson_snprintf (why, size, "cannot check %s %s: %s", what, path, strerror (errno));
      return false;
   }
   return !untrusted (&st, false, what, path, why, size) &&
          !folder_untrusted (path, what, why, size);
}

bool
_mwatch_path_is_trusted (const char *path, const char *what, char *why, size_t size)
{
   struct stat st;
   if (stat (path, &st) != 0) {
      /* Not there: the caller's own open reports that. */
      return true;
   }
   return !untrusted (&st, false, what, path, why, size) &&
          !folder_untrusted (path, what, why, size);
}

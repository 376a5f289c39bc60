/* Descriptors a handler opened, checked by identity before each use. */
#include "owned-fd-private.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

bool
_mwatch_owned_fd_take (mwatch_owned_fd_t *owned, int fd)
{
   struct stat st;

   if (fstat (fd, &st) != 0) {
      int err = errno;
      close (fd);
      errno = err;
      owned->fd = -1;
      return false;
   }
   owned->fd = fd;
   owned->dev = st.st_dev;
   owned->ino = st.st_ino;
   return true;
}

bool
_mwatch_owned_fd_check_stat (mwatch_owned_fd_t *owned, struct stat *st)
{
   if (owned->fd >= 0 &&
       (fstat (owned->fd, st) != 0 || st->st_dev != owned->dev || st->st_ino != owned->ino)) {
      owned->fd = -1; /* the application's now: never written to, never closed */
   }
   return owned->fd >= 0;
}

bool
_mwatch_owned_fd_check (mwatch_owned_fd_t *owned)
{
   struct stat st;

   return _mwatch_owned_fd_check_stat (owned, &st);
}

void
_mwatch_owned_fd_close (mwatch_owned_fd_t *owned)
{
   if (_mwatch_owned_fd_check (owned)) {
      close (owned->fd);
      owned->fd = -1;
   }
}

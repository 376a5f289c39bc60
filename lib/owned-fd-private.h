/* Internal: descriptors a handler opened, told apart from the
 * application's (owned-fd.c). */
#ifndef MWATCH_OWNED_FD_PRIVATE_H
#define MWATCH_OWNED_FD_PRIVATE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A descriptor a handler opened, and the identity (device and inode) of
 * what it was opened on.  A program that closes every descriptor (a
 * daemon, at start) and opens its own files or sockets gets the number
 * for one of them: a handler must then neither write to it nor close it,
 * only forget it and open its own again. */
typedef struct {
   int fd; /* -1 when there is none */
   dev_t dev;
   ino_t ino;
} mwatch_owned_fd_t;

/* Takes `fd` (>= 0), recording its identity; false, with errno set and
 * `fd` closed, if fstat fails. */
bool
_mwatch_owned_fd_take (mwatch_owned_fd_t *owned, int fd);

/* Whether owned->fd is still what it was opened on; if not, forgets it
 * (owned->fd = -1) without closing it.  One fstat: a check only after a
 * fork or a failed write would miss a number reused without either. */
bool
_mwatch_owned_fd_check (mwatch_owned_fd_t *owned);

/* _mwatch_owned_fd_check, giving what the fstat found in *st when the
 * descriptor is still ours (its link count tells a removed file). */
bool
_mwatch_owned_fd_check_stat (mwatch_owned_fd_t *owned, struct stat *st);

/* Closes owned->fd if it is still ours, and forgets it either way. */
void
_mwatch_owned_fd_close (mwatch_owned_fd_t *owned);

#endif /* MWATCH_OWNED_FD_PRIVATE_H */

/* Which files may configure this process (see config-trust.c). */
#ifndef MWATCH_CONFIG_TRUST_PRIVATE_H
#define MWATCH_CONFIG_TRUST_PRIVATE_H

#include "mongowatch.h"

/* Whether the file open as `fd`, found at `path`, and its folder could
 * only have been written by root or this process's user.  When not, `why`
 * (of `size` bytes) says what is wrong and what to do; `what` names the
 * kind of file in it ("the configuration", "the plugin"). */
bool
_mwatch_fd_is_trusted (int fd, const char *path, const char *what, char *why, size_t size);

/* The same by path, for files opened by others (dlopen).  A path that
 * does not exist passes: opening it reports that. */
bool
_mwatch_path_is_trusted (const char *path, const char *what, char *why, size_t size);

#endif

/* Internal: the cursor watcher (watch-cursor.c) as the rest of the
 * library sees it. */
#ifndef MWATCH_WATCH_CURSOR_PRIVATE_H
#define MWATCH_WATCH_CURSOR_PRIVATE_H

/* The address of our own mongoc_cursor_next, for the link-order check
 * (watch-patch.c). */
void *
_mwatch_own_cursor_next (void);

#endif /* MWATCH_WATCH_CURSOR_PRIVATE_H */

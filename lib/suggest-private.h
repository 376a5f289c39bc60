/* Did-you-mean: the known name closest to a misspelled one, by edit
 * distance.  Every place that reports an unknown name (a configuration
 * key, class, logger, reference, a template's field) asks this one
 * helper, so that all of them suggest alike. */
#ifndef MWATCH_SUGGEST_PRIVATE_H
#define MWATCH_SUGGEST_PRIVATE_H

#include <stddef.h>

/* The search for the closest candidate to `name` (its first `len`
 * bytes): _mwatch_suggest_init, then _mwatch_suggest_consider for each
 * candidate (from as many lists as there are), then _mwatch_suggest_best. */
typedef struct {
   const char *name;
   size_t len;
   const char *best;
   size_t best_distance;
} mwatch_suggest_t;

void
_mwatch_suggest_init (mwatch_suggest_t *s, const char *name, size_t len);

/* `candidate` may be NULL (skipped). */
void
_mwatch_suggest_consider (mwatch_suggest_t *s, const char *candidate);

/* Each of a NULL-terminated list (NULL: none). */
void
_mwatch_suggest_consider_all (mwatch_suggest_t *s, const char *const *candidates);

/* The closest candidate if it is close enough to be a misspelling (at most
 * 1 + len / 4 edits, a case difference counting as none), else NULL. */
const char *
_mwatch_suggest_best (const mwatch_suggest_t *s);

/* Edit distance (Levenshtein) between `a` (`a_len` bytes) and the string
 * `b`, letters compared without case; 255 for names of 64 bytes or more. */
size_t
_mwatch_edit_distance (const char *a, size_t a_len, const char *b);

#endif

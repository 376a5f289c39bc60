/* Did-you-mean by edit distance (suggest-private.h). */
#include "suggest-private.h"

#include <ctype.h>
#include <string.h>

#define TOO_FAR 255

size_t
_mwatch_edit_distance (const char *a, size_t a_len, const char *b)
{
   size_t b_len = strlen (b);
   size_t row[64];

   if (a_len >= 64 || b_len >= 64) {
      return TOO_FAR;
   }
   for (size_t j = 0; j <= b_len; j++) {
      row[j] = j;
   }
   for (size_t i = 1; i <= a_len; i++) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b_len; j++) {
         size_t above = row[j];
         /* A misspelling is often one of case: it costs nothing here. */
         size_t cost = tolower ((unsigned char) a[i - 1]) != tolower ((unsigned char) b[j - 1]);
         size_t best = diagonal + cost;
         best = above + 1 < best ? above + 1 : best;
         best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
         row[j] = best;
         diagonal = above;
      }
   }
   return row[b_len];
}

void
_mwatch_suggest_init (mwatch_suggest_t *s, const char *name, size_t len)
{
   s->name = name;
   s->len = len;
   s->best = NULL;
   s->best_distance = TOO_FAR;
}

void
_mwatch_suggest_consider (mwatch_suggest_t *s, const char *candidate)
{
   if (!candidate) {
      return;
   }
   size_t d = _mwatch_edit_distance (s->name, s->len, candidate);
   /* The first of equals wins: lists are in the order a reader expects. */
   if (d < s->best_distance) {
      s->best_distance = d;
      s->best = candidate;
   }
}

void
_mwatch_suggest_consider_all (mwatch_suggest_t *s, const char *const *candidates)
{
   for (; candidates && *candidates; candidates++) {
      _mwatch_suggest_consider (s, *candidates);
   }
}

const char *
_mwatch_suggest_best (const mwatch_suggest_t *s)
{
   return s->best && s->best_distance <= 1 + s->len / 4 ? s->best : NULL;
}

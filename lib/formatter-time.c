/* {asctime}: the record's creation time in local time, through strftime,
 * plus our own %f (microseconds) and %3f (milliseconds).
 *
 * Converting to local time and strftime are the slow part of a log line,
 * and a busy logger formats many records within one second; so each
 * thread keeps the strftime text of the last few (formatter, second)
 * pairs and only writes the fraction anew.  Per thread, so formatting
 * takes no lock.  A change of TZ (with tzset) shows from the next second
 * a thread formats. */
#include "fast-tls-private.h"
#include "formatter-private.h"
#include "json-private.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Python's default: "%Y-%m-%d %H:%M:%S" and ",%03d" milliseconds. */
#define DEFAULT_DATEFMT "%Y-%m-%d %H:%M:%S,%3f"

/* Ends every strftime part, so that strftime's result 0 means only "too
 * small a buffer", never "empty text" (as "%p" is in some locales). */
#define SENTINEL "#"

#define CACHE_SLOTS 4
#define CACHE_PARTS 8
#define CACHE_TEXT 200
#define MAX_PART_TEXT (1u << 20)

typedef struct {
   uint64_t uid; /* the datefmt's; 0 for an empty slot */
   int64_t sec;
   uint16_t len[CACHE_PARTS]; /* each strftime part's text length */
   char text[CACHE_TEXT];     /* those texts, one after the other */
} time_slot_t;

/* Keyed by uid rather than the datefmt's address, which a formatter made
 * after this one was freed may reuse.  Read for every line: in the
 * initial-exec model, without a __tls_get_addr call. */
static _Thread_local time_slot_t slots[CACHE_SLOTS] MWATCH_FAST_TLS;
static _Thread_local unsigned next_victim MWATCH_FAST_TLS;
/* The slot found or filled last: a listener formats one formatter's
 * records, second after second, and finds it there first. */
static _Thread_local unsigned last_slot MWATCH_FAST_TLS;

/* Several formatters (a stream and a file handler, say) often format the
 * same second on one listener thread: they share the conversion. */
static _Thread_local struct {
   bool valid;
   int64_t sec;
   struct tm tm;
} last_tm;

/* ---------------------------------------------------------------- compiling */

static void
add_part (mwatch_datefmt_t *datefmt, char *strftime_fmt, int digits)
{
   datefmt->parts =
      bson_realloc (datefmt->parts, (datefmt->n_parts + 1) * sizeof *datefmt->parts);
   datefmt->parts[datefmt->n_parts].strftime_fmt = strftime_fmt;
   datefmt->parts[datefmt->n_parts].digits = digits;
   datefmt->n_parts++;
}

static void
flush_strftime (mwatch_datefmt_t *datefmt, mwatch_buf_t *part)
{
   if (part->len == 0) {
      return;
   }
   mwatch_buf_append_str (part, SENTINEL);
   add_part (datefmt, part->data, 0);
   mwatch_buf_init (part);
}

void
_mwatch_datefmt_init (mwatch_datefmt_t *datefmt, const char *text)
{
   static atomic_uint_fast64_t next_uid = 1;
   mwatch_buf_t part = MWATCH_BUF_INITIALIZER;

   datefmt->parts = NULL;
   datefmt->n_parts = 0;
   datefmt->uid = atomic_fetch_add (&next_uid, 1);
   for (const char *p = text ? text : DEFAULT_DATEFMT; *p;) {
      int digits = 0;
      size_t n;
      if (p[0] == '%' && p[1] == 'f') {
         digits = 6;
      } else if (p[0] == '%' && p[1] == '3' && p[2] == 'f') {
         digits = 3;
      }
      if (digits) {
         flush_strftime (datefmt, &part);
         add_part (datefmt, NULL, digits);
         p += digits == 6 ? 2 : 3;
         continue;
      }
      if (p[0] == '%' && p[1] == '\0') {
         /* strftime leaves a lone '%' at the end undefined. */
         mwatch_buf_append_str (&part, "%%");
         break;
      }
      /* A conversion is copied whole, so that "%%f" stays a literal "%f". */
      n = p[0] == '%' ? 2 : 1;
      mwatch_buf_append (&part, p, n);
      p += n;
   }
   flush_strftime (datefmt, &part);
}

void
_mwatch_datefmt_destroy (mwatch_datefmt_t *datefmt)
{
   for (size_t i = 0; i < datefmt->n_parts; i++) {
      bson_free (datefmt->parts[i].strftime_fmt);
   }
   bson_free (datefmt->parts);
   datefmt->parts = NULL;
   datefmt->n_parts = 0;
}

/* ---------------------------------------------------------------- writing */

static bool
local_time (int64_t sec, struct tm *tm)
{
   time_t t = (time_t) sec;

   if (last_tm.valid && last_tm.sec == sec) {
      *tm = last_tm.tm;
      return true;
   }
   if ((int64_t) t != sec || !localtime_r (&t, tm)) {
      return false;
   }
   last_tm.valid = true;
   last_tm.sec = sec;
   last_tm.tm = *tm;
   return true;
}

static const time_slot_t *
find_slot (uint64_t uid, int64_t sec)
{
   const time_slot_t *last = &slots[last_slot % CACHE_SLOTS];

   if (last->uid == uid && last->sec == sec) {
      return last;
   }
   for (unsigned i = 0; i < CACHE_SLOTS; i++) {
      if (slots[i].uid == uid && slots[i].sec == sec) {
         last_slot = i;
         return &slots[i];
      }
   }
   return NULL;
}

/* Caches the strftime parts for `sec`; NULL when they do not fit. */
static const time_slot_t *
fill_slot (const mwatch_datefmt_t *datefmt, int64_t sec, const struct tm *tm)
{
   unsigned victim = next_victim++ % CACHE_SLOTS;
   time_slot_t *slot = &slots[victim];
   size_t used = 0;

   slot->uid = 0;
   if (datefmt->n_parts > CACHE_PARTS) {
      return NULL;
   }
   for (size_t i = 0; i < datefmt->n_parts; i++) {
      const char *fmt = datefmt->parts[i].strftime_fmt;
      size_t n = fmt ? strftime (slot->text + used, CACHE_TEXT - used, fmt, tm) : 1;
      if (n == 0) {
         return NULL;
      }
      /* The sentinel is overwritten by the next part's text. */
      slot->len[i] = (uint16_t) (n - 1);
      used += n - 1;
   }
   slot->uid = datefmt->uid;
   slot->sec = sec;
   last_slot = victim;
   return slot;
}

/* One strftime part, when the cache cannot hold the datefmt's text. */
static void
put_strftime (mwatch_buf_t *out, const char *fmt, const struct tm *tm)
{
   char text[CACHE_TEXT];
   size_t n = strftime (text, sizeof text, fmt, tm);

   if (n > 0) {
      mwatch_buf_append (out, text, n - 1);
      return;
   }
   for (size_t room = 2 * sizeof text; room <= MAX_PART_TEXT; room *= 2) {
      size_t at = out->len;
      /* strftime cannot tell the length it needs: try larger rooms, in
       * `out` itself (which has a byte beyond for the terminator). */
      char *dst = _mwatch_fmt_extend (out, room);
      n = strftime (dst, room + 1, fmt, tm);
      out->len = at + (n > 0 ? n - 1 : 0);
      out->data[out->len] = '\0';
      if (n > 0) {
         return;
      }
   }
}

/* A strftime part's cached text: the usual date and time (19 bytes) in
 * one fixed-size move from the slot, which has the room to read past it,
 * rather than a memcpy call of its exact length. */
#define CACHED_MOVE 32

static inline void
put_cached (mwatch_buf_t *out, const time_slot_t *slot, const char *text, size_t len)
{
   if (len > CACHED_MOVE || (size_t) (text - slot->text) + CACHED_MOVE > CACHE_TEXT) {
      _mwatch_buf_put (out, text, len);
      return;
   }
   if (out->len + CACHED_MOVE >= out->cap) {
      _mwatch_buf_grow (out, CACHED_MOVE);
   }
   memcpy (out->data + out->len, text, CACHED_MOVE);
   out->len += len;
   out->data[out->len] = '\0';
}

/* %f or %3f: the microseconds' or milliseconds' digits, in place. */
static inline void
put_fraction (mwatch_buf_t *out, int64_t us, int digits)
{
   if (out->len + 6 >= out->cap) {
      _mwatch_buf_grow (out, 6);
   }
   _mwatch_put_digits (out->data + out->len, (uint64_t) (digits == 6 ? us : us / 1000), (size_t) digits);
   out->len += (size_t) digits;
   out->data[out->len] = '\0';
}

void
_mwatch_datefmt_write (const mwatch_datefmt_t *datefmt, int64_t created, mwatch_buf_t *out)
{
   /* Rounded down, so that times before 1970 have a fraction in [0, 1). */
   int64_t sec = created / 1000000;
   int64_t us = created % 1000000;
   struct tm tm;

   if (us < 0) {
      us += 1000000;
      sec--;
   }
   const time_slot_t *slot = find_slot (datefmt->uid, sec);
   const mwatch_date_part_t *parts = datefmt->parts;
   if (slot && datefmt->n_parts == 2 && parts[0].strftime_fmt && !parts[1].strftime_fmt) {
      /* The default's shape, "%Y-%m-%d %H:%M:%S," and a fraction: the
       * loop below, unrolled. */
      put_cached (out, slot, slot->text, slot->len[0]);
      put_fraction (out, us, parts[1].digits);
      return;
   }
   if (!slot) {
      if (!local_time (sec, &tm)) {
         /* Beyond what time_t or the calendar holds: still a time. */
         _mwatch_text_datetime (out, created);
         return;
      }
      slot = fill_slot (datefmt, sec, &tm);
   }
   const char *text = slot ? slot->text : NULL;
   for (size_t i = 0; i < datefmt->n_parts; i++) {
      const mwatch_date_part_t *part = &datefmt->parts[i];
      if (!part->strftime_fmt) {
         put_fraction (out, us, part->digits);
      } else if (slot) {
         put_cached (out, slot, text, slot->len[i]);
         text += slot->len[i];
      } else {
         put_strftime (out, part->strftime_fmt, &tm);
      }
   }
}

/* Text as JSON strings and as key=value values: UTF-8 checked byte by
 * byte, each ill-formed sequence one U+FFFD, control characters escaped. */
#include "json-private.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

size_t
_mwatch_utf8_next (const uint8_t *s, size_t len, size_t *skip)
{
   uint8_t c = s[0];
   uint8_t lo = 0x80, hi = 0xBF; /* the range of the second byte */
   size_t n;

   if (c < 0x80) {
      return 1;
   } else if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
   } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      /* No overlong forms, no UTF-16 surrogates. */
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
   } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      /* No overlong forms, nothing above U+10FFFF. */
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
   } else {
      *skip = 1;
      return 0;
   }
   for (size_t i = 1; i < n; i++) {
      if (i >= len || s[i] < lo || s[i] > hi) {
         *skip = i;
         return 0;
      }
      lo = 0x80;
      hi = 0xBF;
   }
   return n;
}

/* The JSON escape for an ASCII byte into `esc`; 0 when it needs none. */
static size_t
json_escape (uint8_t c, char esc[6])
{
   static const char short_forms[] = "\"\"\\\\\nn\rr\tt\bb\ff";

   for (size_t i = 0; i < sizeof short_forms - 1; i += 2) {
      if ((char) c == short_forms[i]) {
         esc[0] = '\\';
         esc[1] = short_forms[i + 1];
         return 2;
      }
   }
   if (c >= 0x20) {
      return 0;
   }
   memcpy (esc, "\\u00", 4);
   esc[4] = hex_digits[c >> 4];
   esc[5] = hex_digits[c & 0xF];
   return 6;
}

/* What each byte is, for the scans below: one table load a byte instead of
 * a chain of compares. */
enum {
   BYTE_HIGH = 1,     /* >= 0x80: starts or continues a UTF-8 sequence */
   BYTE_ESCAPE = 2,   /* JSON escapes it: control bytes, NUL, '"', '\' */
   BYTE_NUL = 4,      /* the raw form replaces it */
   BYTE_NOT_BARE = 8, /* ASCII that needs quotes in key=value output */
};

#define BYTE_CLASS(c)                                                                    \
   (uint8_t) (((c) >= 0x80 ? BYTE_HIGH : 0) |                                            \
              ((c) < 0x20 || (c) == '"' || (c) == '\\' ? BYTE_ESCAPE : 0) |             \
              ((c) == 0 ? BYTE_NUL : 0) |                                                \
              ((c) <= ' ' || (c) == 0x7F || (c) == '"' || (c) == '=' || (c) == '\\'     \
                  ? BYTE_NOT_BARE                                                        \
                  : 0))
#define BYTE_ROW(r)                                                                      \
   BYTE_CLASS (r + 0x0), BYTE_CLASS (r + 0x1), BYTE_CLASS (r + 0x2), BYTE_CLASS (r + 0x3), \
      BYTE_CLASS (r + 0x4), BYTE_CLASS (r + 0x5), BYTE_CLASS (r + 0x6),                  \
      BYTE_CLASS (r + 0x7), BYTE_CLASS (r + 0x8), BYTE_CLASS (r + 0x9),                  \
      BYTE_CLASS (r + 0xA), BYTE_CLASS (r + 0xB), BYTE_CLASS (r + 0xC),                  \
      BYTE_CLASS (r + 0xD), BYTE_CLASS (r + 0xE), BYTE_CLASS (r + 0xF)

static const uint8_t byte_class[256] = {
   BYTE_ROW (0x00), BYTE_ROW (0x10), BYTE_ROW (0x20), BYTE_ROW (0x30),
   BYTE_ROW (0x40), BYTE_ROW (0x50), BYTE_ROW (0x60), BYTE_ROW (0x70),
   BYTE_ROW (0x80), BYTE_ROW (0x90), BYTE_ROW (0xA0), BYTE_ROW (0xB0),
   BYTE_ROW (0xC0), BYTE_ROW (0xD0), BYTE_ROW (0xE0), BYTE_ROW (0xF0),
};

/* The classes of 4 and 8 bytes, or-ed: whether any of them is in a class. */
static inline uint8_t
class_of4 (const uint8_t *s)
{
   return (uint8_t) (byte_class[s[0]] | byte_class[s[1]] | byte_class[s[2]] | byte_class[s[3]]);
}

static inline uint8_t
class_of8 (const uint8_t *s)
{
   return (uint8_t) (class_of4 (s) | class_of4 (s + 4));
}

/* Copies the `len` bytes of `s` to `dst` and says whether none of them is
 * in a class of `stop`.  Blocks of 4 or 8 bytes are checked with one
 * test and copied with one load and store; the last block overlaps the
 * one before it rather than going byte by byte (or-ing a class twice and
 * copying a byte twice change nothing).  Stops early, having copied part,
 * when a block has a byte of `stop`. */
static inline __attribute__ ((always_inline)) bool
copy_if_plain (char *dst, const uint8_t *s, size_t len, uint8_t stop)
{
   uint8_t cls = 0;

   if (len >= 8) {
      size_t i = 0;
      for (; i + 8 <= len; i += 8) {
         cls = class_of8 (s + i);
         if (cls & stop) {
            return false;
         }
         memcpy (dst + i, s + i, 8);
      }
      if (i < len) {
         cls = class_of8 (s + len - 8);
         memcpy (dst + len - 8, s + len - 8, 8);
      }
   } else if (len >= 4) {
      cls = (uint8_t) (class_of4 (s) | class_of4 (s + len - 4));
      memcpy (dst, s, 4);
      memcpy (dst + len - 4, s + len - 4, 4);
   } else {
      for (size_t i = 0; i < len; i++) {
         cls |= byte_class[s[i]];
         dst[i] = (char) s[i];
      }
   }
   return !(cls & stop);
}

/* Copies the bytes of `s` up to the first one whose class is in `stop`;
 * returns how many it copied.  The usual text has none, and is copied
 * and checked in blocks (copy_if_plain); otherwise the first such byte is
 * looked for one byte at a time.  (Testing 8 bytes at once with bit
 * tricks, SWAR, was tried: no faster on names and values this short; the
 * blocks still read the table once per byte.) */
static __attribute__ ((noinline, cold)) size_t
copy_until_stop (char *dst, const uint8_t *s, size_t len, uint8_t stop)
{
   size_t i = 0;

   while (i < len && !(byte_class[s[i]] & stop)) {
      dst[i] = (char) s[i];
      i++;
   }
   return i;
}

/* Always inlined: a call would cost a good part of copying a short name. */
static inline __attribute__ ((always_inline)) size_t
copy_plain (mwatch_buf_t *out, const uint8_t *s, size_t len, uint8_t stop)
{
   if (out->len + len >= out->cap) {
      _mwatch_buf_grow (out, len);
   }
   char *dst = out->data + out->len;
   size_t i = copy_if_plain (dst, s, len, stop) ? len : copy_until_stop (dst, s, len, stop);

   out->len += i;
   out->data[out->len] = '\0';
   return i;
}

/* Copies runs of bytes that need no change in one append each, from
 * `i` on: the first `i` bytes are plain and already copied. */
static void
write_text_rest (mwatch_buf_t *out, const char *str, size_t len, size_t i, bool json)
{
   const uint8_t *s = (const uint8_t *) str;
   const uint8_t stop = BYTE_HIGH | (json ? BYTE_ESCAPE : BYTE_NUL);
   size_t run = i;

   while (i < len) {
      if (!(byte_class[s[i]] & stop)) {
         i++;
         continue;
      }

      const char *rep;
      size_t rep_len;
      size_t skip = 1;
      char esc[6];

      if (s[i] >= 0x80) {
         size_t n = _mwatch_utf8_next (s + i, len - i, &skip);
         if (n > 0) {
            i += n;
            continue;
         }
         rep = json ? "\\ufffd" : "\xEF\xBF\xBD";
         rep_len = json ? 6 : 3;
      } else if (json) {
         rep_len = json_escape (s[i], esc);
         rep = esc;
      } else {
         rep = "\xEF\xBF\xBD";
         rep_len = 3;
      }
      _mwatch_buf_put (out, str + run, i - run);
      _mwatch_buf_put (out, rep, rep_len);
      i += skip;
      run = i;
   }
   _mwatch_buf_put (out, str + run, len - run);
}

/* Most text is plain: copied while it is checked, and done.  Inlined
 * into each writer, whose short strings would pay a call more. */
static inline __attribute__ ((always_inline)) void
write_text (mwatch_buf_t *out, const char *str, size_t len, bool json)
{
   uint8_t stop = BYTE_HIGH | (json ? BYTE_ESCAPE : BYTE_NUL);
   size_t plain = copy_plain (out, (const uint8_t *) str, len, stop);

   if (plain < len) {
      write_text_rest (out, str, len, plain, json);
   }
}

void
_mwatch_json_string (mwatch_buf_t *out, const char *str, size_t len)
{
   _mwatch_buf_putc (out, '"');
   write_text (out, str, len, true);
   _mwatch_buf_putc (out, '"');
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define KEY_WORDS 1
#else
#define KEY_WORDS 0
#endif

#define ONES UINT64_C (0x0101010101010101)
#define HIGHS UINT64_C (0x8080808080808080)

/* The high bit of each byte of `w` below `n` (at most 128): exact from
 * the lowest byte up to the first such one, which is all that is read
 * of it (a borrow reaches only the bytes above a byte below `n`). */
static inline uint64_t
bytes_below (uint64_t w, uint8_t n)
{
   return (w - ONES * n) & ~w & HIGHS;
}

static inline uint64_t
bytes_equal (uint64_t w, uint8_t c)
{
   return bytes_below (w ^ (ONES * c), 1);
}

/* A long key, one to escape, or none that ends: apart, so that the usual
 * key's path saves few registers. */
static __attribute__ ((noinline, cold)) size_t
key_general (mwatch_buf_t *out, const uint8_t *key, size_t max)
{
   const uint8_t *nul = memchr (key, '\0', max);
   if (!nul) {
      return max;
   }
   _mwatch_json_string (out, (const char *) key, (size_t) (nul - key));
   _mwatch_buf_putc (out, ':');
   return (size_t) (nul - key);
}

size_t
_mwatch_json_key (mwatch_buf_t *out, const uint8_t *key, size_t max)
{
   /* Keys are short: copied while their end is looked for, up to 32
    * bytes; eight at a time while the document has eight more bytes to
    * read (its terminator at key + max is one of them). */
   size_t lim = max < 32 ? max : 32;
   if (out->len + lim + 11 >= out->cap) {
      _mwatch_buf_grow (out, lim + 11);
   }
   char *dst = out->data + out->len + 1;
   uint8_t cls = 0;
   size_t j = 0;

#if KEY_WORDS
   while (j < lim && j + 8 <= max + 1) {
      uint64_t w;
      memcpy (&w, key + j, 8);
      memcpy (dst + j, &w, 8);
      /* The end (NUL, below 0x20 too), what JSON escapes, and UTF-8. */
      uint64_t stop = bytes_below (w, 0x20) | bytes_equal (w, '"') | bytes_equal (w, '\\') | (w & HIGHS);
      if (stop) {
         size_t at = j + (size_t) (__builtin_ctzll (stop) >> 3);
         if (key[at] != '\0' || at >= lim) {
            goto general;
         }
         j = at;
         goto plain;
      }
      j += 8;
   }
#endif
   while (j < lim && key[j]) {
      cls |= byte_class[key[j]];
      dst[j] = (char) key[j];
      j++;
   }
   if (j >= lim || (cls & (BYTE_HIGH | BYTE_ESCAPE))) {
      goto general;
   }
#if KEY_WORDS
plain:
#endif
   dst[-1] = '"';
   dst[j] = '"';
   dst[j + 1] = ':';
   out->len += j + 3;
   out->data[out->len] = '\0';
   return j;

general:
   return key_general (out, key, max);
}

/* Copies the `len` bytes of `s` (8 or more) when none is NUL or above
 * 0x7F, the raw form's only stops, and says whether it did.  A word of 8
 * bytes is tested at once (no byte's class to look up: a high bit, or a
 * zero byte), the last word overlapping the one before.  On false the
 * buffer's length is unchanged: what was copied past it is overwritten. */
static inline __attribute__ ((always_inline)) bool
copy_if_ascii (mwatch_buf_t *out, const uint8_t *s, size_t len)
{
   char *dst = out->data + out->len;
   uint64_t w;
   size_t i = 0;
   for (; i + 8 <= len; i += 8) {
      memcpy (&w, s + i, 8);
      if ((w | bytes_below (w, 1)) & HIGHS) {
         return false;
      }
      memcpy (dst + i, &w, 8);
   }
   if (i < len) {
      memcpy (&w, s + len - 8, 8);
      if ((w | bytes_below (w, 1)) & HIGHS) {
         return false;
      }
      memcpy (dst + len - 8, &w, 8);
   }
   out->len += len;
   out->data[out->len] = '\0';
   return true;
}

static __attribute__ ((noinline)) void
raw_slow (mwatch_buf_t *out, const char *str, size_t len)
{
   write_text (out, str, len, false);
}

void
_mwatch_json_raw (mwatch_buf_t *out, const char *str, size_t len)
{
   /* A logger's name in every line: ASCII, and most often 8 bytes or
    * more.  With the room there, no call: the rest (a tail call) saves no
    * registers here. */
   if (len >= 8 && out->len + len < out->cap && copy_if_ascii (out, (const uint8_t *) str, len)) {
      return;
   }
   raw_slow (out, str, len);
}

/* _mwatch_text_string for text that is not plain ASCII, or that needs
 * the buffer grown. */
static __attribute__ ((noinline)) void
text_string_slow (mwatch_buf_t *out, const char *str, size_t len)
{
   size_t start = out->len;

   if (len > 0 && copy_plain (out, (const uint8_t *) str, len, BYTE_HIGH | BYTE_NOT_BARE) == len) {
      return;
   }
   out->len = start;
   if (_mwatch_text_is_bare (str, len)) {
      _mwatch_buf_put (out, str, len);
   } else {
      _mwatch_json_string (out, str, len);
   }
}

void
_mwatch_text_string (mwatch_buf_t *out, const char *str, size_t len)
{
   /* Plain ASCII that fits, the usual case, is checked and copied in one
    * pass, with no call: the rest (a tail call) saves no registers here.
    * A copy that meets a byte to quote is left past out->len, and
    * written over. */
   if (len > 0 && out->len + len < out->cap &&
       copy_if_plain (out->data + out->len, (const uint8_t *) str, len, BYTE_HIGH | BYTE_NOT_BARE)) {
      out->len += len;
      out->data[out->len] = '\0';
      return;
   }
   text_string_slow (out, str, len);
}

bool
_mwatch_text_is_bare (const char *str, size_t len)
{
   const uint8_t *s = (const uint8_t *) str;
   size_t i = 0;

   if (len == 0) {
      return false;
   }
   while (i < len) {
      uint8_t cls = byte_class[s[i]];
      if (!cls) {
         i++;
         continue;
      }
      size_t skip;
      size_t n = cls & BYTE_HIGH ? _mwatch_utf8_next (s + i, len - i, &skip) : 0;
      if (n == 0) {
         return false;
      }
      i += n;
   }
   return true;
}

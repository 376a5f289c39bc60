/* A strict reader of the Prometheus text exposition format, as the
 * metrics handler writes it, for the tests (unit and integration): every
 * line whole, and the file ending with the last family the handler
 * writes, so that a file cut anywhere fails. */
#ifndef MWATCH_PROM_PARSE_H
#define MWATCH_PROM_PARSE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_LAST_FAMILY "mongowatch_metrics_records_dropped_total"

static inline bool
prom_name_char (char c, bool first)
{
   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
          (!first && c >= '0' && c <= '9');
}

/* One sample line from `p` to `end` (the newline): false with `why`. */
static inline bool
prom_sample (const char *p, const char *end, const char **why)
{
   if (p == end || !prom_name_char (*p, true)) {
      *why = "a sample line without a metric name";
      return false;
   }
   while (p < end && prom_name_char (*p, false)) {
      p++;
   }
   if (p < end && *p == '{') {
      p++;
      while (p < end && *p != '}') {
         if (!prom_name_char (*p, true)) {
            *why = "a label without a name";
            return false;
         }
         while (p < end && prom_name_char (*p, false)) {
            p++;
         }
         if (end - p < 2 || p[0] != '=' || p[1] != '"') {
            *why = "a label without =\"";
            return false;
         }
         p += 2;
         while (p < end && *p != '"') {
            if (*p == '\\') {
               if (end - p < 2 || (p[1] != '\\' && p[1] != '"' && p[1] != 'n')) {
                  *why = "a label value with an escape other than \\\\, \\\" and \\n";
                  return false;
               }
               p++;
            }
            p++;
         }
         if (p == end) {
            *why = "an unclosed label value";
            return false;
         }
         p++;
         if (p < end && *p == ',') {
            p++;
         } else if (p < end && *p != '}') {
            *why = "labels not separated by ','";
            return false;
         }
      }
      if (p == end) {
         *why = "unclosed labels";
         return false;
      }
      p++;
   }
   if (p == end || *p != ' ') {
      *why = "no space before the value";
      return false;
   }
   p++;
   char value[64];
   size_t n = (size_t) (end - p);
   if (n == 0 || n >= sizeof value) {
      *why = "no value, or too long a value";
      return false;
   }
   memcpy (value, p, n);
   value[n] = '\0';
   char *stop;
   (void) strtod (value, &stop);
   if (*stop != '\0' && strcmp (value, "+Inf") != 0) {
      *why = "a value that is not a number";
      return false;
   }
   return true;
}

/* Whether `text` is a whole exposition; on failure `why` (at least 160
 * bytes) says what and on which line. */
static inline bool
prom_parse (const char *text, size_t len, char *why, size_t why_size)
{
   const char *problem = NULL;
   const char *p = text, *end = text + len, *last = NULL;
   int line = 0;
   if (len == 0 || text[len - 1] != '\n') {
      snprintf (why, why_size, "%s", len ? "the file does not end with a newline" : "the file is empty");
      return false;
   }
   while (p < end && !problem) {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      line++;
      last = p;
      if (*p == '#') {
         if (strncmp (p, "# HELP ", 7) != 0 && strncmp (p, "# TYPE ", 7) != 0) {
            problem = "a comment that is neither HELP nor TYPE";
         } else if (strncmp (p, "# TYPE ", 7) == 0) {
            const char *type = memchr (p + 7, ' ', (size_t) (nl - p - 7));
            bool counter = type && nl - type == 8 && strncmp (type, " counter", 8) == 0;
            bool histogram = type && nl - type == 10 && strncmp (type, " histogram", 10) == 0;
            if (!counter && !histogram) {
               problem = "a TYPE other than counter or histogram";
            }
         }
      } else {
         prom_sample (p, nl, &problem);
      }
      p = nl + 1;
   }
   if (!problem && strncmp (last, PROM_LAST_FAMILY, sizeof PROM_LAST_FAMILY - 1) != 0) {
      problem = "the last line is not " PROM_LAST_FAMILY " (the file is cut)";
   }
   if (problem) {
      snprintf (why, why_size, "line %d: %s", line, problem);
      return false;
   }
   return true;
}

/* The value of the sample written exactly `series` (name and labels, e.g.
 * mongowatch_operations_total{db="a",collection="b",operation="find"}),
 * or -1 when there is none. */
static inline double
prom_value (const char *text, const char *series)
{
   size_t n = strlen (series);
   for (const char *p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL) {
      if (strncmp (p, series, n) == 0 && p[n] == ' ') {
         return strtod (p + n + 1, NULL);
      }
   }
   return -1;
}

#endif

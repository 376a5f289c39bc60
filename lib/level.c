/* Level names and numbers, as in Python's logging. */
#include "mongowatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static const struct {
   const char *name;
   int level;
} level_names[] = {
   {"CRITICAL", MWATCH_LEVEL_CRITICAL},
   {"ERROR", MWATCH_LEVEL_ERROR},
   {"WARNING", MWATCH_LEVEL_WARNING},
   {"INFO", MWATCH_LEVEL_INFO},
   {"DEBUG", MWATCH_LEVEL_DEBUG},
   {"NOTSET", MWATCH_LEVEL_NOTSET},
};

const char *
mwatch_level_name (int level, char *buf, size_t size)
{
   for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++) {
      if (level_names[i].level == level) {
         return level_names[i].name;
      }
   }
   snprintf (buf, size, "Level %d", level);
   return buf;
}

bool
mwatch_level_parse (const char *text, int *level)
{
   if (!text || !*text) {
      return false;
   }
   for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++) {
      if (strcasecmp (text, level_names[i].name) == 0) {
         *level = level_names[i].level;
         return true;
      }
   }
   /* Python's aliases. */
   if (strcasecmp (text, "WARN") == 0) {
      *level = MWATCH_LEVEL_WARNING;
      return true;
   }
   if (strcasecmp (text, "FATAL") == 0) {
      *level = MWATCH_LEVEL_CRITICAL;
      return true;
   }
   char *end;
   long value = strtol (text, &end, 10);
   if (*end != '\0' || value < INT_MIN || value > INT_MAX) {
      return false;
   }
   *level = (int) value;
   return true;
}

/* Fuzz target: a configuration file, YAML (FUZZ_CONFIG_SUFFIX ".yaml") or
 * JSON (".json"), through mwatch_config_check_file: the parser, the merge
 * of positions, the whole schema and every object built — and destroyed
 * again, installing nothing, so that each run starts from the same state.
 *
 * The text goes into a file of the working directory (test/fuzz/run runs
 * the targets in a scratch directory, where file handlers may create their
 * empty logs).  Inputs naming a plugin (ext:///path) are passed over: they
 * would dlopen whatever library the fuzzer spelled. */
#include "fuzz.h"

#ifndef FUZZ_CONFIG_SUFFIX
#error "build with -DFUZZ_CONFIG_SUFFIX='\".yaml\"' or '\".json\"'"
#endif

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   if (memmem (data, size, "ext:///", 7)) {
      return 0;
   }
   const char *path = "fuzz-config" FUZZ_CONFIG_SUFFIX;
   FILE *fp = fopen (path, "wb");
   FUZZ_ASSERT (fp, "cannot write %s in the working directory", path);
   FUZZ_ASSERT (fwrite (data, 1, size, fp) == size && fclose (fp) == 0, "cannot write %s", path);
   mwatch_buf_t description = MWATCH_BUF_INITIALIZER;
   bson_error_t error;
   if (!mwatch_config_check_file (path, &description, &error)) {
      /* Every error names the file it is about. */
      FUZZ_ASSERT (strstr (error.message, path), "error without the file: %s", error.message);
   }
   mwatch_buf_destroy (&description);
   return 0;
}

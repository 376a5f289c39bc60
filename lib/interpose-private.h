/* Symbol interposition: how each mongoc_* definition of ours finds the real
 * one, and when it watches rather than passing straight through. */
#ifndef MWATCH_INTERPOSE_PRIVATE_H
#define MWATCH_INTERPOSE_PRIVATE_H

#include <stdatomic.h>

#include "fast-tls-private.h"
#include "mongoc-compat-private.h"
#include "mongowatch.h"

/* The wrappers define and forward libmongoc's deprecated functions too,
 * since real programs still call them: naming them is the point here. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* One real function, resolved on first use. */
typedef struct {
   const char *name;
   _Atomic (void *) fn;
} mwatch_sym_t;

/* Finds the definition that comes after ours (dlsym RTLD_NEXT), or in the
 * libmongoc already loaded when ours is the only one in the global scope
 * (a plugin that dlopen'ed libmongoc locally).  Aborts with a message when
 * there is none: the application called a function that does not exist. */
void *
_mwatch_resolve (mwatch_sym_t *sym);

static inline void *
_mwatch_real (mwatch_sym_t *sym)
{
   void *fn = atomic_load_explicit (&sym->fn, memory_order_acquire);
   return BSON_LIKELY (fn != NULL) ? fn : _mwatch_resolve (sym);
}

/* Precedes our definition of mongoc function `name`: exports it (the
 * library is built with hidden visibility) and declares the real
 * counterpart, which REAL(name) then gives with the right type. */
#define MWATCH_REAL_SYM(name)                                            \
   extern __typeof__ (name) name __attribute__ ((visibility ("default"))); \
   static mwatch_sym_t real_sym_##name = {#name, NULL}
#define REAL(name) ((__typeof__ (name) *) _mwatch_real (&real_sym_##name))

/* The pass-through of a wrapper with no stack frame: a load, a branch and
 * a jump to the real function.  Its first call resolves the real function
 * in FIRST_CALL's function (define it with MWATCH_FIRST_CALL), out of line,
 * because resolving within the wrapper would make every call save the
 * arguments around it. */
#define MWATCH_FIRST_CALL(type, name, params, args)                        \
   static __attribute__ ((noinline, cold)) type first_call_##name params \
   {                                                                      \
      return ((__typeof__ (name) *) _mwatch_resolve (&real_sym_##name)) args; \
   }
#define MWATCH_PASS_THROUGH(name, args)                                            \
   do {                                                                            \
      void *fn_ = atomic_load_explicit (&real_sym_##name.fn, memory_order_acquire); \
      if (BSON_LIKELY (fn_ != NULL)) {                                             \
         return ((__typeof__ (name) *) fn_) args;                                  \
      }                                                                            \
      return first_call_##name args;                                               \
   } while (0)

/* Says on stderr, once per process, that logging was set up and libmongoc
 * used but mwatch_patch_mongoc() never succeeded, when that is so: such a
 * program would otherwise log nothing and say nothing.  Called by
 * mwatch_shutdown, before it detaches the handlers. */
void
_mwatch_report_never_patched (void);

/* Records a successful mwatch_patch_mongoc (watch-patch.c), for
 * _mwatch_report_never_patched. */
void
_mwatch_note_patched (void);


extern atomic_bool _mwatch_patched;
/* How deep this thread is inside a watched call or a log emission: calls
 * that libmongoc (or a handler) makes meanwhile are not watched again. */
extern _Thread_local int _mwatch_depth MWATCH_FAST_TLS;

/* The fast test of every wrapper: a relaxed load first, so that an
 * unpatched program pays one load and a branch. */
static inline bool
_mwatch_watching (void)
{
   return BSON_UNLIKELY (atomic_load_explicit (&_mwatch_patched, memory_order_relaxed)) &&
          _mwatch_depth == 0;
}

static inline void
_mwatch_enter (void)
{
   _mwatch_depth++;
}

static inline void
_mwatch_leave (void)
{
   _mwatch_depth--;
}

#endif

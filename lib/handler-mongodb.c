/* The MongoDB audit handler: each record as a typed document
 * (handler-mongodb-doc.c) inserted into a collection of the user's choice.
 *
 * emit only builds the document and puts it into a bounded buffer; a
 * thread of the handler's own takes what is there (up to a batch) and
 * inserts it with one insert_many, on a client of its own.  That thread is
 * never watched: it stays inside mongowatch's depth guard for its whole
 * life (_mwatch_enter, as a watched call's nested calls are), so the audit
 * writes never become audit records, however the loggers are set up.
 *
 * Nothing is lost silently.  While the server is down or refuses the
 * batch, the thread retries with a backoff (doubling from 100 ms up to
 * backoff_max_sec) and records wait in the buffer; beyond its bound
 * (capacity records, max_bytes bytes) new records are dropped, counted and
 * reported once per episode on "mongowatch.stats", and once when inserting
 * works again.  Each document carries its own _id, made in emit, so that a
 * batch sent again after a lost reply is refused as duplicates instead of
 * being stored twice.  Closing waits at most shutdown_timeout_sec for the
 * buffer to empty, then counts and reports what is left. */
#include "fork-private.h"
#include "handler-mongodb-private.h"
#include "handler-private.h"
#include "handler-report-private.h"
#include "interpose-private.h"
#include "report-private.h"
#include "thread-private.h"
#include "watch-secrets-private.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define RETRY_MIN_SEC 0.1
#define TTL_INDEX_NAME "mongowatch_ttl"
#define DUPLICATE_KEY 11000

typedef struct _mongodb_t mongodb_t;

struct _mongodb_t {
   mwatch_handler_t *self;
   /* Fixed at construction. */
   mongoc_uri_t *uri;
   char *database;
   char *collection;
   char *where; /* "DB.COLLECTION at HOSTS", for reports */
   int64_t ttl_sec;
   size_t capacity;
   size_t max_bytes;
   size_t batch_size;
   double backoff_max_sec;
   double shutdown_timeout_sec;

   /* Guarded by `mutex`: the buffer (a ring of up to capacity documents), the
    * thread's state and the counters. */
   pthread_mutex_t mutex;
   pthread_cond_t wake;
   bson_t **ring;     /* ring_size slots, grown up to capacity (grow) */
   size_t ring_size;
   size_t head, count, bytes;
   bool started;      /* the thread was started (in this process) */
   bool stopping;     /* closing: empty the buffer, then end */
   int64_t deadline;  /* monotonic us: closing gives up then */
   bool done;         /* the thread ended */
   mwatch_mongodb_handler_stats_t stats;
   uint64_t episode;  /* drops since the failure episode's report */
   bool failing;      /* the last batch could not be sent */
   bool drop_reported;
   char error[256];   /* why the last batch could not be sent */

   /* The thread's own. */
   pthread_t thread;
   mongoc_client_t *client;
   bool index_done;
   bool refusing; /* the last batch had records the server refused */

   /* The live handlers, for fork (live_lock). */
   mongodb_t *prev, *next;
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static mongodb_t *live;

static const char *
display_name (const mongodb_t *m)
{
   const char *name = mwatch_handler_get_name (m->self);
   return name ? name : "(unnamed mongodb handler)";
}

/* ---------------------------------------------------------------- sending */

/* The client, made on first use and after a failure: a fresh client
 * rescans at once, where a client that saw the server fail would skip it
 * for its cooldown (5 s for a single-threaded client). */
static mongoc_client_t *
get_client (mongodb_t *m, bson_error_t *error)
{
   if (!m->client) {
      m->client = mongoc_client_new_from_uri_with_error (m->uri, error);
   }
   return m->client;
}

static void
drop_client (mongodb_t *m)
{
   mongoc_client_destroy (m->client);
   m->client = NULL;
}

/* A reply of the server to the command itself (not a network failure):
 * sending it again would get the same answer. */
static bool
server_answered (const bson_error_t *error)
{
   return error->domain == MONGOC_ERROR_SERVER || error->domain == MONGOC_ERROR_QUERY ||
          error->domain == MONGOC_ERROR_WRITE_CONCERN;
}

/* The TTL index, once per handler, before the first batch.  The server's
 * own refusal (FerretDB has no TTL indexes; an index of the same key with
 * other options exists) is reported once and not tried again; a network
 * failure is the batch's failure. */
static bool
ensure_index (mongodb_t *m, mongoc_collection_t *coll, bool closing, bson_error_t *error)
{
   if (m->ttl_sec <= 0 || m->index_done) {
      return true;
   }
   bson_t *cmd = BCON_NEW ("createIndexes", BCON_UTF8 (m->collection),
                           "indexes", "[", "{",
                              "key", "{", MWATCH_MONGODB_TIME_FIELD, BCON_INT32 (1), "}",
                              "name", BCON_UTF8 (TTL_INDEX_NAME),
                              "expireAfterSeconds", BCON_INT64 (m->ttl_sec),
                           "}", "]");
   bson_t reply;
   bool ok = mongoc_collection_write_command_with_opts (coll, cmd, NULL, &reply, error);
   bson_destroy (cmd);
   bson_destroy (&reply);
   if (ok || server_answered (error)) {
      m->index_done = true;
      if (!ok) {
         char text[512];
         bson_snprintf (text, sizeof text,
                        "mongodb handler \"%s\": cannot create the TTL index on %s "
                        "(expireAfterSeconds %" PRId64 "): %s; records are stored without "
                        "expiry",
                        display_name (m), m->where, m->ttl_sec, error->message);
         _mwatch_stats_report (text, closing);
      }
      return true;
   }
   return false;
}

/* What one insert_many of the server's reply says of a batch that was
 * answered record by record: stored (a duplicate _id is a record stored
 * by an earlier attempt whose reply was lost), or refused. */
static void
count_write_errors (const bson_t *reply, size_t n, size_t *refused, char *why, size_t why_size)
{
   bson_iter_t iter, errors, item;
   *refused = 0;
   if (!bson_iter_init_find (&iter, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY (&iter) ||
       !bson_iter_recurse (&iter, &errors)) {
      return;
   }
   while (bson_iter_next (&errors) && *refused < n) {
      int32_t code = 0;
      const char *message = "";
      if (BSON_ITER_HOLDS_DOCUMENT (&errors) && bson_iter_recurse (&errors, &item)) {
         while (bson_iter_next (&item)) {
            if (strcmp (bson_iter_key (&item), "code") == 0 && BSON_ITER_HOLDS_INT (&item)) {
               code = (int32_t) bson_iter_as_int64 (&item);
            } else if (strcmp (bson_iter_key (&item), "errmsg") == 0 && BSON_ITER_HOLDS_UTF8 (&item)) {
               message = bson_iter_utf8 (&item, NULL);
            }
         }
      }
      if (code != DUPLICATE_KEY) {
         if (*refused == 0) {
            bson_snprintf (why, why_size, "%s (code %d)", message, (int) code);
         }
         (*refused)++;
      }
   }
}

typedef enum { SENT, NOT_SENT } send_result_t;

/* Inserts `docs`.  SENT when the server took the batch, each record
 * stored or refused (*refused of them, the first's reason in `why`);
 * NOT_SENT, with `error`, when it must be sent again. */
static send_result_t
send_batch (mongodb_t *m, const bson_t **docs, size_t n, bool closing, size_t *refused, char *why, size_t why_size, bson_error_t *error)
{
   *refused = 0;
   mongoc_client_t *client = get_client (m, error);
   if (!client) {
      return NOT_SENT;
   }
   mongoc_collection_t *coll = mongoc_client_get_collection (client, m->database, m->collection);
   send_result_t result = NOT_SENT;
   if (ensure_index (m, coll, closing, error)) {
      /* The documents are valid already (handler-mongodb-doc.c escapes
       * keys); unordered, so that one refused record does not hold back
       * the rest of its batch. */
      bson_t opts = BSON_INITIALIZER, reply;
      BSON_APPEND_BOOL (&opts, "ordered", false);
      BSON_APPEND_BOOL (&opts, "validate", false);
      bool ok = mongoc_collection_insert_many (coll, docs, n, &opts, &reply, error);
      bson_iter_t iter;
      if (ok) {
         result = SENT;
      } else if (bson_iter_init_find (&iter, &reply, "writeErrors")) {
         count_write_errors (&reply, n, refused, why, why_size);
         /* A write concern error as well: not stored everywhere asked,
          * sent again (duplicates are then refused as such). */
         result = bson_has_field (&reply, "writeConcernErrors") ? NOT_SENT : SENT;
      }
      bson_destroy (&reply);
      bson_destroy (&opts);
   }
   mongoc_collection_destroy (coll);
   if (result == NOT_SENT && !server_answered (error)) {
      drop_client (m);
   }
   return result;
}

/* ---------------------------------------------------------------- the thread */

/* Reports made by the thread, outside `mutex`: a report goes through the
 * loggers, whose handlers may include this one.  While the handler
 * closes (`closing`, read under `mutex`) it goes to stderr instead: close
 * holds the handler's lock while it waits for this thread, so a report
 * reaching this handler (on "mongowatch.stats") would wait for that lock
 * until the wait ran out, and the buffer would not be sent meanwhile. */
static void
report (char *text, bool closing)
{
   if (text) {
      _mwatch_stats_report (text, closing);
      bson_free (text);
   }
}

/* Takes the first `n` documents off the buffer (mutex held). */
static void
pop (mongodb_t *m, size_t n)
{
   for (size_t i = 0; i < n; i++) {
      bson_t *doc = m->ring[m->head];
      m->bytes -= doc->len;
      bson_destroy (doc);
      m->ring[m->head] = NULL;
      m->head = (m->head + 1) % m->ring_size;
      m->count--;
   }
}

static void *
sender_main (void *arg)
{
   mongodb_t *m = arg;
   const bson_t **batch = bson_malloc (m->batch_size * sizeof *batch);
   double backoff = RETRY_MIN_SEC;

   /* Every libmongoc call of this thread passes straight through.  No
    * mongoc_init here: the application's own (any libmongoc program
    * makes it), or the mask's, did it. */
   _mwatch_enter ();

   pthread_mutex_lock (&m->mutex);
   for (;;) {
      while (m->count == 0 && !m->stopping) {
         pthread_cond_wait (&m->wake, &m->mutex);
      }
      if (m->count == 0 || (m->stopping && mwatch_monotonic_us () >= m->deadline)) {
         break;
      }
      size_t n = m->count < m->batch_size ? m->count : m->batch_size;
      for (size_t i = 0; i < n; i++) {
         batch[i] = m->ring[(m->head + i) % m->ring_size];
      }
      bool closing = m->stopping;
      pthread_mutex_unlock (&m->mutex);

      size_t refused;
      char why[256] = "";
      bson_error_t error = {0};
      send_result_t result = send_batch (m, batch, n, closing, &refused, why, sizeof why, &error);
      char *text = NULL;

      pthread_mutex_lock (&m->mutex);
      closing = m->stopping;
      if (result == SENT) {
         pop (m, n);
         m->stats.inserted += n - refused;
         m->stats.refused += refused;
         backoff = RETRY_MIN_SEC;
         /* The episode ends with a batch sent after a failure, or, when
          * the buffer filled because the server is slower than the
          * records come (no failure), once it is half empty again: not
          * at every batch of a sustained overload. */
         if (m->failing || (m->drop_reported && m->count < m->capacity / 2)) {
            text = bson_strdup_printf ("mongodb handler \"%s\": inserting into %s works again; "
                                       "%" PRIu64 " record%s dropped during the failure",
                                       display_name (m), m->where, m->episode,
                                       m->episode == 1 ? "" : "s");
            m->failing = false;
            m->drop_reported = false;
            m->episode = 0;
         } else if (refused && !m->refusing) {
            text = bson_strdup_printf ("mongodb handler \"%s\": the server refused %zu record%s "
                                       "of a batch of %zu into %s: %s",
                                       display_name (m), refused, refused == 1 ? "" : "s", n,
                                       m->where, why);
         }
         m->refusing = refused > 0;
      } else {
         m->stats.failed_batches++;
         bson_strncpy (m->error, error.message, sizeof m->error);
         if (!m->failing) {
            m->failing = true;
            text = bson_strdup_printf ("mongodb handler \"%s\": cannot insert into %s: %s; "
                                       "keeping up to %zu records and retrying",
                                       display_name (m), m->where, error.message, m->capacity);
         }
      }
      pthread_mutex_unlock (&m->mutex);
      report (text, closing);
      pthread_mutex_lock (&m->mutex);

      if (result == NOT_SENT) {
         /* Waits out the backoff, but not past the closing's deadline;
          * a record emitted meanwhile does not cut it short. */
         int64_t until = mwatch_monotonic_us () + (int64_t) (backoff * 1e6);
         for (;;) {
            int64_t limit = m->stopping && m->deadline < until ? m->deadline : until;
            if (mwatch_monotonic_us () >= limit) {
               break;
            }
            struct timespec ts = _mwatch_timespec_at (limit);
            pthread_cond_timedwait (&m->wake, &m->mutex, &ts);
         }
         backoff = backoff * 2 < m->backoff_max_sec ? backoff * 2 : m->backoff_max_sec;
      }
   }
   /* Closing ran out of time: what is left is lost, and counted. */
   m->stats.lost_at_close += m->count;
   m->stats.dropped += m->count;
   pop (m, m->count);
   m->done = true;
   pthread_mutex_unlock (&m->mutex);

   drop_client (m);
   bson_free (batch);
   _mwatch_leave ();
   return NULL;
}

/* ---------------------------------------------------------------- the vtable */

/* The first slots of the buffer: it grows, doubling, up to capacity as
 * records wait, so that a large capacity costs memory only when a slow or
 * absent server makes records wait (never at load, in check-config). */
#define RING_FIRST_SIZE ((size_t) 256)

/* A buffer of twice the slots (at most capacity), the records in order
 * from slot 0 (mutex held; the sender's batch holds the documents, not
 * their slots). */
static void
grow (mongodb_t *m)
{
   size_t size = m->ring_size ? m->ring_size * 2 : RING_FIRST_SIZE;
   size = size < m->capacity ? size : m->capacity;
   bson_t **ring = bson_malloc0 (size * sizeof *ring);
   for (size_t i = 0; i < m->count; i++) {
      ring[i] = m->ring[(m->head + i) % m->ring_size];
   }
   bson_free (m->ring);
   m->ring = ring;
   m->ring_size = size;
   m->head = 0;
}

static void
mongodb_emit (void *impl, mwatch_handler_t *handler, mwatch_record_t *record)
{
   mongodb_t *m = impl;
   BSON_UNUSED (handler);
   bson_t *doc = bson_new ();
   _mwatch_mongodb_record_doc (record, doc);

   char *text = NULL;
   pthread_mutex_lock (&m->mutex);
   bool room = m->count < m->capacity && m->bytes + doc->len <= m->max_bytes;
   if (room && !m->started) {
      m->started = _mwatch_thread_start (&m->thread, sender_main, m);
      if (!m->started) {
         bson_strncpy (m->error, "cannot start the handler's thread", sizeof m->error);
      }
   }
   if (room && m->started && !m->stopping) {
      if (m->count == m->ring_size) {
         grow (m);
      }
      m->ring[(m->head + m->count) % m->ring_size] = doc;
      m->count++;
      m->bytes += doc->len;
      doc = NULL;
      pthread_cond_signal (&m->wake);
   } else {
      m->stats.dropped++;
      m->episode++;
      if (!m->drop_reported) {
         m->drop_reported = true;
         text = bson_strdup_printf (
            "mongodb handler \"%s\": its buffer is full (%zu records, %zu bytes at most) "
            "while %s %s%s%s; dropping records until inserting works again",
            display_name (m), m->capacity, m->max_bytes, m->where,
            m->failing ? "is unavailable (" : "stores records slower than they come",
            m->failing ? m->error : "", m->failing ? ")" : "");
      }
   }
   pthread_mutex_unlock (&m->mutex);
   bson_destroy (doc);
   /* Under the handler's lock, as every handler's failure reports: a
    * report that comes back to this handler is not given to it
    * (handler.c). */
   report (text, false);
}

/* The thread sends as soon as it has anything: nothing to push. */
static void
mongodb_flush (void *impl, mwatch_handler_t *handler)
{
   BSON_UNUSED (impl);
   BSON_UNUSED (handler);
}

static void
mongodb_close (void *impl, mwatch_handler_t *handler)
{
   mongodb_t *m = impl;
   pthread_mutex_lock (&m->mutex);
   m->stopping = true;
   m->deadline = mwatch_monotonic_us () + (int64_t) (m->shutdown_timeout_sec * 1e6);
   bool started = m->started;
   pthread_cond_signal (&m->wake);
   pthread_mutex_unlock (&m->mutex);

   /* The thread gives up at the deadline, between two attempts; one
    * attempt may still be under way then (bounded by the client's
    * timeouts).  A thread that does not end in time is left behind, with
    * the handler, which it still uses. */
   if (started && !_mwatch_thread_join_within (m->thread, m->shutdown_timeout_sec + 0.5)) {
      _mwatch_handler_keep (handler);
      pthread_detach (m->thread);
      char why[sizeof m->error];
      pthread_mutex_lock (&m->mutex);
      size_t left = m->count;
      bson_strncpy (why, m->error[0] ? m->error : "a slow server", sizeof why);
      pthread_mutex_unlock (&m->mutex);
      _mwatch_report ("mongodb handler \"%s\": closing ran out of time (%.1f s) with %zu "
                      "record%s not inserted into %s (%s)",
                      display_name (m), m->shutdown_timeout_sec, left, left == 1 ? "" : "s",
                      m->where, why);
      return;
   }
   pthread_mutex_lock (&m->mutex);
   m->started = false;
   uint64_t dropped = m->stats.dropped, lost = m->stats.lost_at_close;
   pthread_mutex_unlock (&m->mutex);
   if (dropped > 0) {
      _mwatch_report ("mongodb handler \"%s\": %" PRIu64 " record%s dropped in all: %" PRIu64
                      " while its buffer was full, %" PRIu64 " left unwritten at close (%s)",
                      display_name (m), dropped, dropped == 1 ? "" : "s", dropped - lost, lost,
                      m->where);
   }
}

static void
mongodb_destroy (void *impl)
{
   mongodb_t *m = impl;
   pthread_mutex_lock (&live_lock);
   if (m->prev) {
      m->prev->next = m->next;
   } else {
      live = m->next;
   }
   if (m->next) {
      m->next->prev = m->prev;
   }
   pthread_mutex_unlock (&live_lock);
   pop (m, m->count);
   bson_free (m->ring);
   mongoc_uri_destroy (m->uri);
   bson_free (m->database);
   bson_free (m->collection);
   bson_free (m->where);
   pthread_cond_destroy (&m->wake);
   pthread_mutex_destroy (&m->mutex);
   bson_free (m);
}

static const mwatch_handler_vtable_t mongodb_vtable = {
   .emit = mongodb_emit,
   .flush = mongodb_flush,
   .close = mongodb_close,
   .destroy = mongodb_destroy,
};

/* ---------------------------------------------------------------- fork */

/* Each handler's mutex is taken before fork (after the handlers' locks:
 * emit takes it under its handler's lock).  The child has no sender
 * thread: it starts one of its own at its first record, with a client of
 * its own (libmongoc forbids using the parent's, which the child leaves
 * alone), and drops the parent's buffered records, which the parent
 * inserts. */
static void
fork_prepare (void)
{
   pthread_mutex_lock (&live_lock);
   for (mongodb_t *m = live; m; m = m->next) {
      pthread_mutex_lock (&m->mutex);
   }
}

static void
fork_parent (void)
{
   for (mongodb_t *m = live; m; m = m->next) {
      pthread_mutex_unlock (&m->mutex);
   }
   pthread_mutex_unlock (&live_lock);
}

static void
fork_child (void)
{
   for (mongodb_t *m = live; m; m = m->next) {
      for (size_t i = 0; i < m->count; i++) {
         bson_destroy (m->ring[(m->head + i) % m->ring_size]);
      }
      m->head = m->count = m->bytes = 0;
      /* The counters and failure episode are the parent's too. */
      memset (&m->stats, 0, sizeof m->stats);
      m->episode = 0;
      m->failing = m->drop_reported = m->refusing = false;
      m->started = false;
      m->client = NULL;
      m->index_done = false;
      _mwatch_cond_init_monotonic (&m->wake);
      pthread_mutex_unlock (&m->mutex);
   }
   pthread_mutex_unlock (&live_lock);
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_MONGODB_HANDLERS, fork_prepare, fork_parent, fork_child);
}

/* ---------------------------------------------------------------- public */

void
mwatch_mongodb_handler_opts_init (mwatch_mongodb_handler_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->capacity = MWATCH_MONGODB_DEFAULT_CAPACITY;
   opts->max_bytes = MWATCH_MONGODB_DEFAULT_MAX_BYTES;
   opts->batch_size = MWATCH_MONGODB_DEFAULT_BATCH_SIZE;
   opts->backoff_max_sec = 5.0;
   opts->shutdown_timeout_sec = 5.0;
}

static bool
fail (bson_error_t *error, const char **key, const char *which, const char *format, const char *arg)
{
   *key = which;
   bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT, format, arg);
   return false;
}

/* The authentication mechanisms of this libmongoc (its cluster's
 * authentication knows these; any other fails only when a connection is
 * made, each time, which a configuration check would not see). */
#if MONGOC_CHECK_VERSION(1, 28, 0)
#define AUTH_MECHANISMS_OIDC ", MONGODB-OIDC"
#else
#define AUTH_MECHANISMS_OIDC ""
#endif
#define AUTH_MECHANISMS                                                                  \
   "SCRAM-SHA-1, SCRAM-SHA-256, MONGODB-X509, MONGODB-AWS, GSSAPI, PLAIN, MONGODB-CR" \
   AUTH_MECHANISMS_OIDC

/* Whether `mechanism` (NULL: none set) is one of AUTH_MECHANISMS, as
 * libmongoc compares them (without case); `shown` gets it for an error. */
static bool
auth_mechanism_known (const char *mechanism, char *shown, size_t size)
{
   static const char list[] = AUTH_MECHANISMS;
   if (!mechanism) {
      return true;
   }
   bson_strncpy (shown, mechanism, size);
   size_t len = strlen (mechanism);
   for (const char *p = list; *p; p += strcspn (p, ","), p += strspn (p, ", ")) {
      if (strcspn (p, ",") == len && strncasecmp (p, mechanism, len) == 0) {
         return true;
      }
   }
   return false;
}

/* The names MongoDB accepts (its manual's restrictions on names), the
 * URI, and the options' bounds. */
bool
_mwatch_mongodb_check_opts (const mwatch_mongodb_handler_opts_t *opts, bson_error_t *error, const char **key)
{
   if (!opts->uri || !*opts->uri) {
      return fail (error, key, "uri", "%sthe MongoDB URI is missing", "");
   }
   bson_error_t uri_error;
   mongoc_uri_t *uri = mongoc_uri_new_with_error (opts->uri, &uri_error);
   if (!uri) {
      return fail (error, key, "uri", "bad MongoDB URI: %s", uri_error.message);
   }
   char mechanism[64];
   bool known = auth_mechanism_known (mongoc_uri_get_auth_mechanism (uri), mechanism, sizeof mechanism);
   mongoc_uri_destroy (uri);
   if (!known) {
      return fail (error, key, "uri",
                   "bad MongoDB URI: authMechanism \"%s\" is none of those libmongoc knows "
                   "(" AUTH_MECHANISMS ")",
                   mechanism);
   }
   if (!opts->database || !*opts->database) {
      return fail (error, key, "database", "%sthe database name is missing", "");
   }
   if (strpbrk (opts->database, "/\\. \"$") || strlen (opts->database) > 63) {
      return fail (error, key, "database",
                   "\"%s\" is not a database name: at most 63 bytes, none of / \\ . space \" $",
                   opts->database);
   }
   if (!opts->collection || !*opts->collection) {
      return fail (error, key, "collection", "%sthe collection name is missing", "");
   }
   if (strchr (opts->collection, '$') || strncmp (opts->collection, "system.", 7) == 0) {
      return fail (error, key, "collection",
                   "\"%s\" is not a collection name for records: no $, not system.*",
                   opts->collection);
   }
   static const struct {
      const char *key;
      const char *rule;
   } bounds[] = {
      {"ttl_sec", "ttl_sec must be 0 (no TTL index) or more"},
      {"capacity", "capacity must be at least 1"},
      {"max_bytes", "max_bytes must be at least 1"},
      {"batch_size", "batch_size must be at least 1"},
      {"backoff_max_sec", "backoff_max_sec must be at least 0.1"},
      {"shutdown_timeout_sec", "shutdown_timeout_sec must be more than 0"},
   };
   const bool bad[] = {
      opts->ttl_sec < 0,
      opts->capacity < 1,
      opts->max_bytes < 1,
      opts->batch_size < 1,
      !(opts->backoff_max_sec >= RETRY_MIN_SEC),
      !(opts->shutdown_timeout_sec > 0),
   };
   for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      if (bad[i]) {
         return fail (error, key, bounds[i].key, "%s", bounds[i].rule);
      }
   }
   return true;
}

char *
_mwatch_mongodb_uri_shown (const char *uri)
{
   /* The records' own masking: the user information's password and the
    * options' (tlsCertificateKeyFilePassword). */
   char *masked = _mwatch_mask_credentials (uri);
   return masked ? masked : bson_strdup (uri);
}

/* Bounds on one attempt where the URI sets none, so that a server that
 * does not answer costs a retry, not the closing's time bound. */
static void
default_timeouts (mongoc_uri_t *uri)
{
   static const struct {
      const char *option;
      int32_t ms;
   } defaults[] = {
      {MONGOC_URI_CONNECTTIMEOUTMS, 2000},
      {MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000},
      {MONGOC_URI_SOCKETTIMEOUTMS, 10000},
   };
   for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) {
      if (mongoc_uri_get_option_as_int32 (uri, defaults[i].option, -1) < 0) {
         mongoc_uri_set_option_as_int32 (uri, defaults[i].option, defaults[i].ms);
      }
   }
   if (!mongoc_uri_get_appname (uri)) {
      mongoc_uri_set_appname (uri, "mongowatch-audit");
   }
}

mwatch_handler_t *
mwatch_handler_new_mongodb (const mwatch_mongodb_handler_opts_t *opts, bson_error_t *error)
{
   bson_error_t local;
   const char *key;
   error = error ? error : &local;
   if (!opts) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "no options: the MongoDB URI, database and collection are required");
      return NULL;
   }
   if (!_mwatch_mongodb_check_opts (opts, error, &key)) {
      return NULL;
   }
   mongoc_uri_t *uri = mongoc_uri_new_with_error (opts->uri, NULL);
   default_timeouts (uri);

   mongodb_t *m = bson_malloc0 (sizeof *m);
   m->uri = uri;
   m->database = bson_strdup (opts->database);
   m->collection = bson_strdup (opts->collection);
   const mongoc_host_list_t *host = mongoc_uri_get_hosts (uri);
   m->where = bson_strdup_printf ("%s.%s at %s%s", m->database, m->collection,
                                  host ? host->host_and_port : "?",
                                  host && host->next ? " and others" : "");
   m->ttl_sec = opts->ttl_sec;
   m->capacity = opts->capacity;
   m->max_bytes = opts->max_bytes;
   m->batch_size = opts->batch_size;
   m->backoff_max_sec = opts->backoff_max_sec;
   m->shutdown_timeout_sec = opts->shutdown_timeout_sec;
   pthread_mutex_init (&m->mutex, NULL);
   _mwatch_cond_init_monotonic (&m->wake);

   m->self = mwatch_handler_new (&mongodb_vtable, m);
   pthread_mutex_lock (&live_lock);
   m->next = live;
   if (live) {
      live->prev = m;
   }
   live = m;
   pthread_mutex_unlock (&live_lock);
   return m->self;
}

bool
mwatch_mongodb_handler_stats (mwatch_handler_t *handler, mwatch_mongodb_handler_stats_t *stats)
{
   memset (stats, 0, sizeof *stats);
   if (!handler || _mwatch_handler_vtable (handler) != &mongodb_vtable) {
      return false;
   }
   mongodb_t *m = mwatch_handler_impl (handler);
   pthread_mutex_lock (&m->mutex);
   *stats = m->stats;
   stats->buffered = m->count;
   pthread_mutex_unlock (&m->mutex);
   return true;
}

/* The OpenTelemetry handler: records as OTLP log records (and spans) over
 * OTLP/HTTP with JSON bodies, sent by a thread of the handler's own.
 *
 * emit (under the handler's lock, on a queue's listener or the
 * application's thread) only encodes the record (handler-otlp-json.c) and
 * appends it to a bounded buffer; it never waits for the network.  The
 * sender thread (started by the first record, not by the constructor, so
 * that check-config and a fork's child start none before they need it) takes up to max_batch_size records at a time, when a
 * batch is full, a flush asked for it, or the oldest record waited
 * schedule_delay_sec, and POSTs them with libcurl (loaded by the first
 * handler made: curl-loader.c).  A collector that is
 * down or restarting (no connection, a timeout, 429, 502, 503, 504) is
 * tried again with backoff while the buffer keeps the records; what the
 * full buffer cannot take is dropped and counted; a batch refused for good
 * is dropped and counted.  The sender reports failures, drops and
 * recoveries on "mongowatch.stats" (never under a lock of ours).
 *
 * Closing sends what is buffered for at most shutdown_timeout_sec: every
 * request's timeout is cut to the time left, and what is left then is
 * counted as dropped, so that exit is bounded even with a collector that
 * accepts connections and never answers.
 *
 * Locks: `lock` (one per handler) guards the buffer, the counters and the
 * flags; nothing else is taken under it (a leaf: fork rank OTLP).  The
 * HTTP exchange runs without it: the sender alone removes entries, at the
 * head, and emit alone adds them, at the tail, so the entries being sent
 * stay put. */
#include "curl-loader-private.h"
#include "fork-private.h"
#include "handler-otlp-private.h"
#include "handler-private.h"
#include "handler-report-private.h"
#include "secrets-text-private.h"
#include "thread-private.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define DEFAULT_ENDPOINT "http://localhost:4318"
#define FIRST_BACKOFF_SEC 0.1
/* What is kept of a refusing endpoint's answer, for the report. */
#define MAX_RESPONSE 512
/* The most bytes of records in one request (see batch_size_locked). */
#define REQUEST_MAX_BYTES ((size_t) 4 << 20)
/* At most how often the drops are reported while the handler runs. */
#define REPORT_INTERVAL_US ((int64_t) 10 * 1000 * 1000)

typedef struct otlp_impl {
   mwatch_handler_t *self;
   /* Settings, fixed at construction. */
   char *logs_url;
   char *traces_url;
   bool spans;
   char *service_name;
   char **resource_pairs;
   const mwatch_curl_api_t *curl; /* libcurl's functions */
   struct curl_slist *headers;
   size_t max_queue, max_queue_bytes, max_batch;
   int64_t schedule_delay_us, export_timeout_us, backoff_max_us, shutdown_timeout_us;

   /* Under `lock`. */
   pthread_mutex_t lock;
   pthread_cond_t wake; /* the sender: records, a flush, close */
   mwatch_otlp_entry_t *ring; /* max_queue entries */
   size_t head, count, bytes;
   int64_t oldest;       /* monotonic time the oldest buffered record came */
   bool flush_asked;
   bool closing;
   int64_t deadline;     /* closing: when the sender gives up */
   mwatch_otlp_stats_t stats;
   uint64_t reported_dropped;
   int64_t next_report;
   uint64_t rng[2];      /* trace and span ids (xorshift128+) */

   /* Metrics (under `lock`): the series, and a generation counted at
    * each operation added, so that the sender exports only what changed. */
   bool metrics;
   char *metrics_url;
   int64_t metrics_interval_us;
   int64_t metrics_start;   /* wall clock, when counting began */
   int64_t next_metrics;    /* monotonic */
   mwatch_otlp_series_t *series;
   size_t n_series, cap_series;
   uint64_t metrics_gen, metrics_sent_gen;

   /* The sender's own. */
   pthread_t sender;
   bool sender_running;
   bool failing;          /* an episode of failures was reported */
   uint64_t episode_retries;
   mwatch_buf_t encoded;  /* emit's scratch (under the handler's lock) */
   mwatch_buf_t span_encoded;

   struct otlp_impl *prev, *next; /* live handlers, for fork */
} otlp_impl_t;

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static otlp_impl_t *live;

static const char *
display_name (const otlp_impl_t *impl)
{
   const char *name = impl->self ? mwatch_handler_get_name (impl->self) : NULL;
   return name ? name : "(unnamed otlp handler)";
}

/* ---------------------------------------------------------------- ids */

static void
rng_seed (otlp_impl_t *impl)
{
   if (getrandom (impl->rng, sizeof impl->rng, 0) != (ssize_t) sizeof impl->rng) {
      impl->rng[0] = (uint64_t) mwatch_realtime_us () ^ ((uint64_t) getpid () << 32);
      impl->rng[1] = (uint64_t) mwatch_monotonic_us () | 1;
   }
}

static uint64_t
rng_next (otlp_impl_t *impl)
{
   uint64_t s1 = impl->rng[0];
   const uint64_t s0 = impl->rng[1];
   impl->rng[0] = s0;
   s1 ^= s1 << 23;
   impl->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
   return impl->rng[1] + s0;
}

/* Random ids, never all zero (which OTLP reads as "no id"). */
static void
new_ids (otlp_impl_t *impl, uint8_t trace_id[16], uint8_t span_id[8])
{
   uint64_t a = rng_next (impl), b = rng_next (impl), c = rng_next (impl);
   memcpy (trace_id, &a, 8);
   memcpy (trace_id + 8, &b, 8);
   memcpy (span_id, &c, 8);
   trace_id[0] |= a == 0 && b == 0 ? 1 : 0;
   span_id[0] |= c == 0 ? 1 : 0;
}

/* ---------------------------------------------------------------- buffer */

static void
entry_free (mwatch_otlp_entry_t *e)
{
   bson_free (e->log);
   bson_free (e->span);
   memset (e, 0, sizeof *e);
}

static size_t
entry_bytes (const mwatch_otlp_entry_t *e)
{
   return e->log_len + e->span_len;
}

/* Frees the first `n` buffered entries (sent, or given up). */
static void
pop_locked (otlp_impl_t *impl, size_t n)
{
   for (size_t i = 0; i < n; i++) {
      mwatch_otlp_entry_t *e = &impl->ring[(impl->head + i) % impl->max_queue];
      impl->bytes -= entry_bytes (e);
      entry_free (e);
   }
   impl->head = (impl->head + n) % impl->max_queue;
   impl->count -= n;
}

/* Frees every buffered entry, sent or not. */
static void
entries_clear (otlp_impl_t *impl)
{
   for (size_t i = 0; i < impl->count; i++) {
      entry_free (&impl->ring[(impl->head + i) % impl->max_queue]);
   }
   impl->head = impl->count = impl->bytes = 0;
}

/* Forgets the metrics' series. */
static void
series_clear (otlp_impl_t *impl)
{
   for (size_t i = 0; i < impl->n_series; i++) {
      bson_free (impl->series[i].db);
      bson_free (impl->series[i].collection);
      bson_free (impl->series[i].operation);
   }
   impl->n_series = 0;
}

/* The most series kept: a bound on memory and on the request, against
 * an application that names collections by the thousand. */
#define MAX_SERIES 1000

static bool
text_is (const char *str, const mwatch_otlp_text_t *t)
{
   return strlen (str) == t->len && memcmp (str, t->str, t->len) == 0;
}

/* Counts a final record in its series (the handler's lock held). */
static void
metrics_add (otlp_impl_t *impl, const mwatch_record_t *record)
{
   mwatch_otlp_text_t key[3];
   double seconds;
   bool failed;
   if (!_mwatch_otlp_series_key (record, key, &seconds, &failed)) {
      return;
   }
   pthread_mutex_lock (&impl->lock);
   mwatch_otlp_series_t *s = NULL;
   for (size_t i = 0; i < impl->n_series && !s; i++) {
      mwatch_otlp_series_t *c = &impl->series[i];
      if (c->failed == failed && text_is (c->operation, &key[2]) && text_is (c->collection, &key[1]) &&
          text_is (c->db, &key[0])) {
         s = c;
      }
   }
   if (!s && impl->n_series < MAX_SERIES) {
      if (impl->n_series == impl->cap_series) {
         impl->cap_series = impl->cap_series ? impl->cap_series * 2 : 16;
         impl->series = bson_realloc (impl->series, impl->cap_series * sizeof *impl->series);
      }
      s = &impl->series[impl->n_series++];
      memset (s, 0, sizeof *s);
      s->db = bson_strndup (key[0].str, key[0].len);
      s->collection = bson_strndup (key[1].str, key[1].len);
      s->operation = bson_strndup (key[2].str, key[2].len);
      s->failed = failed;
   }
   if (s) {
      _mwatch_otlp_series_add (s, seconds);
      impl->metrics_gen++;
   } else {
      impl->stats.metrics_overflow++;
   }
   pthread_mutex_unlock (&impl->lock);
}

static bool
start_sender (otlp_impl_t *impl);

static void
otlp_emit (void *data, mwatch_handler_t *handler, mwatch_record_t *record)
{
   otlp_impl_t *impl = data;
   /* The sender starts at the first record (in a child, at the child's
    * first): building a handler (check-config) or forking (every
    * system()'s child) starts no thread.  Without it nothing is sent:
    * the record is dropped, counted (and reported at close). */
   pthread_mutex_lock (&impl->lock);
   bool sending = impl->sender_running || impl->closing || start_sender (impl);
   impl->stats.dropped += sending ? 0 : 1;
   pthread_mutex_unlock (&impl->lock);
   if (!sending) {
      return;
   }
   if (impl->metrics) {
      metrics_add (impl, record);
   }
   mwatch_otlp_kind_t kind = _mwatch_otlp_kind (record, impl->spans);
   if (kind == MWATCH_OTLP_SKIP) {
      return;
   }
   uint8_t trace_id[16], span_id[8];
   size_t body_len;
   const char *body = mwatch_handler_format (handler, record, &body_len);

   /* Encoded before the buffer's lock: the sender never waits on it. */
   pthread_mutex_lock (&impl->lock);
   new_ids (impl, trace_id, span_id);
   pthread_mutex_unlock (&impl->lock);
   mwatch_buf_clear (&impl->encoded);
   mwatch_buf_clear (&impl->span_encoded);
   _mwatch_otlp_encode (record, body, body_len, trace_id, span_id, &impl->encoded,
                        kind == MWATCH_OTLP_LOG_AND_SPAN ? &impl->span_encoded : NULL);

   mwatch_otlp_entry_t e = {.scope = record->name};
   size_t size = impl->encoded.len + impl->span_encoded.len;
   pthread_mutex_lock (&impl->lock);
   if (impl->count == impl->max_queue || impl->bytes + size > impl->max_queue_bytes) {
      /* The sender reports it (never under the handler's lock). */
      impl->stats.dropped++;
      pthread_cond_signal (&impl->wake);
      pthread_mutex_unlock (&impl->lock);
      return;
   }
   e.log = bson_strndup (impl->encoded.data, impl->encoded.len);
   e.log_len = impl->encoded.len;
   if (impl->span_encoded.len) {
      e.span = bson_strndup (impl->span_encoded.data, impl->span_encoded.len);
      e.span_len = impl->span_encoded.len;
   }
   impl->ring[(impl->head + impl->count) % impl->max_queue] = e;
   if (impl->count++ == 0) {
      impl->oldest = mwatch_monotonic_us ();
   }
   impl->bytes += size;
   /* The first record starts the sender's schedule delay (it waits
    * without a limit on an empty buffer); a full batch goes at once. */
   if (impl->count == 1 || impl->count >= impl->max_batch) {
      pthread_cond_signal (&impl->wake);
   }
   pthread_mutex_unlock (&impl->lock);
}

/* Has what is buffered sent at once, without waiting for it: a queue's
 * listener flushes whenever it runs dry, and must not wait on the
 * network. */
static void
otlp_flush (void *data, mwatch_handler_t *handler)
{
   otlp_impl_t *impl = data;
   BSON_UNUSED (handler);
   pthread_mutex_lock (&impl->lock);
   if (impl->count > 0 && impl->sender_running) {
      impl->flush_asked = true;
      pthread_cond_signal (&impl->wake);
   }
   pthread_mutex_unlock (&impl->lock);
}

/* ---------------------------------------------------------------- HTTP */

typedef struct {
   char text[MAX_RESPONSE];
   size_t len;
} response_t;

static size_t
keep_response (char *data, size_t size, size_t nmemb, void *user)
{
   response_t *r = user;
   size_t n = size * nmemb;
   size_t room = sizeof r->text - 1 - r->len;
   size_t take = n < room ? n : room;
   memcpy (r->text + r->len, data, take);
   r->len += take;
   r->text[r->len] = '\0';
   return n;
}

typedef enum { SENT, RETRY, REFUSED } outcome_t;

/* `url` as reports show it: its password masked
 * ("https://user:***@host/..."), as check-config shows it. */
static void
shown_url (const char *url, char *out, size_t size)
{
   char *masked = _mwatch_mask_credentials (url);
   bson_snprintf (out, size, "%s", masked ? masked : url);
   bson_free (masked);
}

/* One POST.  `why` gets a failure's description. */
static outcome_t
post (otlp_impl_t *impl, CURL *curl, const char *url, const mwatch_buf_t *body, int64_t timeout_us,
      char *why, size_t why_size, uint64_t *rejected)
{
   response_t response = {.len = 0};
   char curl_error[CURL_ERROR_SIZE] = "";
   long timeout_ms = (long) (timeout_us / 1000);
   timeout_ms = timeout_ms < 1 ? 1 : timeout_ms;

   impl->curl->easy_setopt (curl, CURLOPT_URL, url);
   impl->curl->easy_setopt (curl, CURLOPT_POST, 1L);
   impl->curl->easy_setopt (curl, CURLOPT_POSTFIELDS, body->data);
   impl->curl->easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body->len);
   impl->curl->easy_setopt (curl, CURLOPT_HTTPHEADER, impl->headers);
   impl->curl->easy_setopt (curl, CURLOPT_TIMEOUT_MS, timeout_ms);
   impl->curl->easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
   /* Signals are the application's; curl's resolver timeouts use none. */
   impl->curl->easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
   impl->curl->easy_setopt (curl, CURLOPT_WRITEFUNCTION, keep_response);
   impl->curl->easy_setopt (curl, CURLOPT_WRITEDATA, &response);
   impl->curl->easy_setopt (curl, CURLOPT_ERRORBUFFER, curl_error);

   CURLcode rc = impl->curl->easy_perform (curl);
   char shown[512];
   shown_url (url, shown, sizeof shown);
   if (rc != CURLE_OK) {
      bson_snprintf (why, why_size, "cannot send to %s: %s", shown,
                     curl_error[0] ? curl_error : impl->curl->easy_strerror (rc));
      return RETRY;
   }
   long status = 0;
   impl->curl->easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
   if (status >= 200 && status < 300) {
      /* A partial success names the records the endpoint rejected. */
      const char *key = strstr (response.text, "\"rejectedLogRecords\"");
      key = key ? key : strstr (response.text, "\"rejectedSpans\"");
      if (key && (key = strchr (key, ':'))) {
         key++;
         while (*key == ' ' || *key == '"') {
            key++;
         }
         *rejected = strtoull (key, NULL, 10);
      }
      return SENT;
   }
   bson_snprintf (why, why_size, "%s answered HTTP %ld: %.200s", shown, status, response.text);
   /* OTLP/HTTP's retryable answers. */
   return status == 429 || status == 502 || status == 503 || status == 504 ? RETRY : REFUSED;
}

/* ---------------------------------------------------------------- sender */

/* A request's timeout: export_timeout_sec, cut to what is left of the
 * close's time. */
static int64_t
request_timeout (const otlp_impl_t *impl, bool closing, int64_t deadline)
{
   int64_t left = deadline - mwatch_monotonic_us ();
   return closing && left < impl->export_timeout_us ? left : impl->export_timeout_us;
}

/* The resource's attributes, process.pid as it is now (a child has its own). */
static void
resource_json (const otlp_impl_t *impl, mwatch_buf_t *out)
{
   _mwatch_otlp_resource (out, impl->service_name, (const char *const *) impl->resource_pairs,
                          (int64_t) getpid ());
}

/* Reports (without our lock) what `text` says. */
static void
report (const char *text, bool closing)
{
   _mwatch_stats_report (text, closing);
}

static void
report_drops (otlp_impl_t *impl, uint64_t dropped, bool closing)
{
   if (dropped == impl->reported_dropped) {
      return;
   }
   char text[512];
   bson_snprintf (text, sizeof text,
                  "otlp handler \"%s\": %" PRIu64 " records dropped in all, %" PRIu64
                  " since the last report (the buffer of %zu records was full, the endpoint "
                  "refused them, or closing ran out of time)",
                  display_name (impl), dropped, dropped - impl->reported_dropped, impl->max_queue);
   impl->reported_dropped = dropped;
   report (text, closing);
}

/* Sends the first `n` buffered entries' logs, then their spans.  True
 * when they are done with (sent or refused for good). */
static bool
send_batch (otlp_impl_t *impl, CURL *curl, mwatch_buf_t *body, size_t n, bool closing,
            int64_t deadline, char *why, size_t why_size)
{
   /* The entries stay in the ring (emit adds only after them), so they
    * are read here without the lock; a pointer to each is taken. */
   mwatch_otlp_entry_t *batch = bson_malloc (n * sizeof *batch);
   pthread_mutex_lock (&impl->lock);
   for (size_t i = 0; i < n; i++) {
      batch[i] = impl->ring[(impl->head + i) % impl->max_queue];
   }
   pthread_mutex_unlock (&impl->lock);

   mwatch_buf_t resource = MWATCH_BUF_INITIALIZER;
   resource_json (impl, &resource);
   bool done = true;
   for (int spans = 0; spans < 2 && done; spans++) {
      size_t taken = _mwatch_otlp_envelope (body, resource.data, batch, n, spans);
      if (taken == 0) {
         continue;
      }
      uint64_t rejected = 0;
      outcome_t outcome = post (impl, curl, spans ? impl->traces_url : impl->logs_url, body,
                                request_timeout (impl, closing, deadline), why, why_size, &rejected);
      pthread_mutex_lock (&impl->lock);
      if (outcome == RETRY) {
         done = false;
      } else {
         /* Sent or refused: that part of each entry is done with. */
         for (size_t i = 0; i < n; i++) {
            mwatch_otlp_entry_t *e = &impl->ring[(impl->head + i) % impl->max_queue];
            if (spans) {
               impl->bytes -= e->span_len;
               bson_free (e->span);
               e->span = NULL;
               e->span_len = 0;
               batch[i].span = NULL;
            } else {
               impl->bytes -= e->log_len;
               bson_free (e->log);
               e->log = NULL;
               e->log_len = 0;
               batch[i].log = NULL;
            }
         }
         uint64_t *ok = spans ? &impl->stats.spans_sent : &impl->stats.sent;
         if (outcome == SENT) {
            *ok += taken - (rejected < taken ? rejected : taken);
            /* Spans are extra: only the log records count as records. */
            impl->stats.dropped += spans ? 0 : (rejected < taken ? rejected : taken);
         } else if (!spans) {
            impl->stats.dropped += taken;
         }
      }
      pthread_mutex_unlock (&impl->lock);
      if (outcome == REFUSED) {
         char text[700];
         bson_snprintf (text, sizeof text,
                        "otlp handler \"%s\": %s; %zu %s dropped (the endpoint refuses them)",
                        display_name (impl), why, taken, spans ? "spans" : "records");
         report (text, closing);
      }
   }
   mwatch_buf_destroy (&resource);
   bson_free (batch);
   return done;
}

/* Exports the series as they are now; false when the endpoint did not
 * take them (the next export carries the same totals and more). */
static bool
export_metrics (otlp_impl_t *impl, CURL *curl, mwatch_buf_t *body, bool closing, int64_t deadline,
                char *why, size_t why_size)
{
   pthread_mutex_lock (&impl->lock);
   /* A copy of the counts; the names are never freed before the handler. */
   size_t n = impl->n_series;
   mwatch_otlp_series_t *copy = bson_malloc ((n ? n : 1) * sizeof *copy);
   memcpy (copy, impl->series, n * sizeof *copy);
   uint64_t gen = impl->metrics_gen;
   int64_t start = impl->metrics_start;
   pthread_mutex_unlock (&impl->lock);

   mwatch_buf_t resource = MWATCH_BUF_INITIALIZER;
   resource_json (impl, &resource);
   _mwatch_otlp_metrics_envelope (body, resource.data, copy, n, start, mwatch_realtime_us ());
   uint64_t rejected = 0;
   outcome_t outcome = post (impl, curl, impl->metrics_url, body, request_timeout (impl, closing, deadline),
                             why, why_size, &rejected);
   mwatch_buf_destroy (&resource);
   bson_free (copy);
   pthread_mutex_lock (&impl->lock);
   if (outcome == SENT) {
      impl->metrics_sent_gen = gen;
      impl->stats.metrics_sent++;
   } else if (outcome == REFUSED) {
      /* Refused for good: sending the same again would not help. */
      impl->metrics_sent_gen = gen;
   }
   pthread_mutex_unlock (&impl->lock);
   if (outcome == REFUSED) {
      char text[700];
      bson_snprintf (text, sizeof text, "otlp handler \"%s\": metrics: %s", display_name (impl), why);
      report (text, closing);
   }
   return outcome != RETRY;
}

/* How many of the first buffered entries go in one request: up to
 * max_batch_size, and no more than REQUEST_MAX_BYTES of them (but at
 * least one), under the 20 MiB a Collector's receiver takes by default,
 * so that a few large records (a long Filter) do not have a whole batch
 * refused with them. */
static size_t
batch_size_locked (const otlp_impl_t *impl)
{
   size_t n = 0, bytes = 0;
   while (n < impl->count && n < impl->max_batch) {
      const mwatch_otlp_entry_t *e = &impl->ring[(impl->head + n) % impl->max_queue];
      size_t size = e->log_len > e->span_len ? e->log_len : e->span_len;
      if (n > 0 && bytes + size > REQUEST_MAX_BYTES) {
         break;
      }
      bytes += size;
      n++;
   }
   return n;
}

static void *
sender_main (void *arg)
{
   otlp_impl_t *impl = arg;
   CURL *curl = impl->curl->easy_init ();
   mwatch_buf_t body = MWATCH_BUF_INITIALIZER;
   int64_t backoff_us = 0, retry_at = 0;
   char why[600] = "";

   int64_t metrics_backoff_us = 0;
   pthread_mutex_lock (&impl->lock);
   for (;;) {
      int64_t now = mwatch_monotonic_us ();
      bool metrics_due = impl->metrics && impl->metrics_gen != impl->metrics_sent_gen;
      if (impl->closing && ((impl->count == 0 && !metrics_due) || now >= impl->deadline || !curl)) {
         break;
      }
      /* The metrics, when they changed: every interval, at once when
       * closing (after the records), never before their retry time. */
      if (metrics_due && now >= impl->next_metrics && (!impl->closing || impl->count == 0)) {
         bool closing = impl->closing;
         int64_t deadline = impl->deadline;
         pthread_mutex_unlock (&impl->lock);
         bool ok = export_metrics (impl, curl, &body, closing, deadline, why, sizeof why);
         pthread_mutex_lock (&impl->lock);
         if (ok) {
            metrics_backoff_us = 0;
            impl->next_metrics = mwatch_monotonic_us () + impl->metrics_interval_us;
         } else {
            metrics_backoff_us = metrics_backoff_us ? metrics_backoff_us * 2
                                                    : (int64_t) (FIRST_BACKOFF_SEC * 1e6);
            if (metrics_backoff_us > impl->backoff_max_us) {
               metrics_backoff_us = impl->backoff_max_us;
            }
            impl->next_metrics = mwatch_monotonic_us () + metrics_backoff_us;
         }
         continue;
      }
      /* When to send: a full batch, a flush or close, the oldest
       * record's delay; never before the backoff ends. */
      int64_t due = INT64_MAX;
      if (impl->count > 0) {
         due = impl->count >= impl->max_batch || impl->flush_asked || impl->closing
                  ? now
                  : impl->oldest + impl->schedule_delay_us;
      }
      if (due < retry_at) {
         due = retry_at;
      }
      if (metrics_due && impl->next_metrics < due) {
         due = impl->next_metrics;
      }
      if (impl->closing && due > impl->deadline) {
         due = impl->deadline;
      }
      /* Drops to report, at most every REPORT_INTERVAL_US. */
      if (impl->stats.dropped != impl->reported_dropped && now >= impl->next_report) {
         uint64_t dropped = impl->stats.dropped;
         impl->next_report = now + REPORT_INTERVAL_US;
         pthread_mutex_unlock (&impl->lock);
         report_drops (impl, dropped, false);
         pthread_mutex_lock (&impl->lock);
         continue;
      }
      if (due > now) {
         int64_t until = due;
         if (impl->stats.dropped != impl->reported_dropped && impl->next_report < until) {
            until = impl->next_report;
         }
         if (until == INT64_MAX) {
            pthread_cond_wait (&impl->wake, &impl->lock);
         } else {
            struct timespec ts = _mwatch_timespec_at (until);
            pthread_cond_timedwait (&impl->wake, &impl->lock, &ts);
         }
         continue;
      }
      if (impl->closing && now >= impl->deadline) {
         break;
      }
      size_t n = batch_size_locked (impl);
      bool closing = impl->closing;
      int64_t deadline = impl->deadline;
      pthread_mutex_unlock (&impl->lock);

      bool done = send_batch (impl, curl, &body, n, closing, deadline, why, sizeof why);

      pthread_mutex_lock (&impl->lock);
      if (done) {
         pop_locked (impl, n);
         if (impl->count == 0) {
            impl->flush_asked = false;
         } else {
            impl->oldest = mwatch_monotonic_us ();
         }
         retry_at = 0;
         backoff_us = 0;
         if (impl->failing) {
            char text[700], shown[512];
            shown_url (impl->logs_url, shown, sizeof shown);
            bson_snprintf (text, sizeof text,
                           "otlp handler \"%s\": sending to %s works again after %" PRIu64
                           " retries; %" PRIu64 " records dropped in all so far",
                           display_name (impl), shown, impl->episode_retries,
                           impl->stats.dropped);
            impl->failing = false;
            impl->episode_retries = 0;
            pthread_mutex_unlock (&impl->lock);
            report (text, closing);
            pthread_mutex_lock (&impl->lock);
         }
         continue;
      }
      /* Not sent: the records stay; try again after a backoff that
       * doubles up to backoff_max_sec, with up to half of it as jitter, so
       * that many processes do not come back at one instant. */
      impl->stats.retries++;
      impl->episode_retries++;
      backoff_us = backoff_us == 0 ? (int64_t) (FIRST_BACKOFF_SEC * 1e6) : backoff_us * 2;
      if (backoff_us > impl->backoff_max_us) {
         backoff_us = impl->backoff_max_us;
      }
      retry_at = mwatch_monotonic_us () + backoff_us / 2 +
                 (int64_t) (rng_next (impl) % (uint64_t) (backoff_us / 2 + 1));
      if (!impl->failing) {
         impl->failing = true;
         char text[900];
         bson_snprintf (text, sizeof text,
                        "otlp handler \"%s\": %s; trying again with backoff, %zu records "
                        "buffered (at most %zu, then records are dropped)",
                        display_name (impl), why, impl->count, impl->max_queue);
         pthread_mutex_unlock (&impl->lock);
         report (text, closing);
         pthread_mutex_lock (&impl->lock);
      }
   }
   /* Closing, and out of time (or without curl): what is left is lost. */
   if (impl->count > 0) {
      uint64_t left = 0;
      for (size_t i = 0; i < impl->count; i++) {
         left += impl->ring[(impl->head + i) % impl->max_queue].log ? 1 : 0;
      }
      impl->stats.dropped += left;
      pop_locked (impl, impl->count);
   }
   pthread_mutex_unlock (&impl->lock);
   mwatch_buf_destroy (&body);
   if (curl) {
      impl->curl->easy_cleanup (curl);
   }
   return NULL;
}

static bool
start_sender (otlp_impl_t *impl)
{
   impl->sender_running = _mwatch_thread_start (&impl->sender, sender_main, impl);
   return impl->sender_running;
}

/* ---------------------------------------------------------------- close */

static void
otlp_close (void *data, mwatch_handler_t *handler)
{
   otlp_impl_t *impl = data;
   pthread_mutex_lock (&impl->lock);
   impl->closing = true;
   impl->deadline = mwatch_monotonic_us () + impl->shutdown_timeout_us;
   /* The metrics go out now, after the records, whatever their interval. */
   impl->next_metrics = mwatch_monotonic_us ();
   pthread_cond_signal (&impl->wake);
   bool running = impl->sender_running;
   pthread_mutex_unlock (&impl->lock);
   if (running) {
      /* Every request's timeout ends by the deadline; a little more for
       * curl to notice. */
      double bound = (double) impl->shutdown_timeout_us / 1e6 + 1.0;
      if (!_mwatch_thread_join_within (impl->sender, bound)) {
         /* Stuck beyond its own bounds (a resolver that ignores them):
          * left to the process's end, with the handler never freed. */
         _mwatch_handler_keep (handler);
         pthread_detach (impl->sender);
         pthread_mutex_lock (&impl->lock);
         impl->stats.dropped += impl->count;
         pthread_mutex_unlock (&impl->lock);
      }
      impl->sender_running = false;
   }
   pthread_mutex_lock (&impl->lock);
   uint64_t dropped = impl->stats.dropped;
   bool unexported = impl->metrics && impl->metrics_gen != impl->metrics_sent_gen;
   pthread_mutex_unlock (&impl->lock);
   report_drops (impl, dropped, true);
   if (unexported) {
      char text[900], shown[512];
      shown_url (impl->metrics_url, shown, sizeof shown);
      bson_snprintf (text, sizeof text,
                     "otlp handler \"%s\": the last metrics were not exported to %s before "
                     "closing ran out of time",
                     display_name (impl), shown);
      report (text, true);
   }
}

static void
otlp_destroy (void *data)
{
   otlp_impl_t *impl = data;
   pthread_mutex_lock (&live_lock);
   if (impl->prev) {
      impl->prev->next = impl->next;
   } else if (live == impl) {
      live = impl->next;
   }
   if (impl->next) {
      impl->next->prev = impl->prev;
   }
   pthread_mutex_unlock (&live_lock);
   entries_clear (impl);
   series_clear (impl);
   bson_free (impl->series);
   bson_free (impl->metrics_url);
   bson_free (impl->ring);
   bson_free (impl->logs_url);
   bson_free (impl->traces_url);
   bson_free (impl->service_name);
   _mwatch_otlp_pairs_free (impl->resource_pairs);
   impl->curl->slist_free_all (impl->headers);
   mwatch_buf_destroy (&impl->encoded);
   mwatch_buf_destroy (&impl->span_encoded);
   pthread_mutex_destroy (&impl->lock);
   pthread_cond_destroy (&impl->wake);
   bson_free (impl);
}

static const mwatch_handler_vtable_t otlp_vtable = {
   .emit = otlp_emit,
   .flush = otlp_flush,
   .close = otlp_close,
   .destroy = otlp_destroy,
   .deferred = false,
};

/* ---------------------------------------------------------------- construction */

void
mwatch_otlp_opts_init (mwatch_otlp_opts_t *opts)
{
   memset (opts, 0, sizeof *opts);
   opts->max_queue_size = 2048;
   opts->max_queue_bytes = (size_t) 32 << 20;
   opts->max_batch_size = 512;
   opts->schedule_delay_sec = 1.0;
   opts->export_timeout_sec = 10.0;
   opts->backoff_max_sec = 5.0;
   opts->shutdown_timeout_sec = 5.0;
   opts->metrics_interval_sec = 60.0;
}

static const char *
env (const char *name)
{
   const char *value = getenv (name);
   return value && *value ? value : NULL;
}

static bool
check_url (const char *url, const char *what, bson_error_t *error)
{
   if (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0) {
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "%s \"%s\" is not an http:// or https:// URL", what, url);
      return false;
   }
   return true;
}

/* The URL of a signal: its own setting, its own variable, or the base's. */
static char *
signal_url (const char *own, const char *own_var, const char *base, const char *base_what,
            const char *signal, bson_error_t *error)
{
   const char *url = own ? own : env (own_var);
   if (url) {
      char what[32];
      bson_snprintf (what, sizeof what, "%s_endpoint", signal);
      return check_url (url, own ? what : own_var, error) ? bson_strdup (url) : NULL;
   }
   return check_url (base, base_what, error) ? _mwatch_otlp_signal_url (base, signal) : NULL;
}

static bool
check_protocol (bson_error_t *error)
{
   static const char *const vars[] = {"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"};
   for (size_t i = 0; i < 2; i++) {
      const char *p = env (vars[i]);
      if (p && strcmp (p, "http/json") != 0 && strcmp (p, "http/protobuf") != 0) {
         bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                         "%s is \"%s\": the otlp handler speaks OTLP/HTTP (http/json, which "
                         "a collector's HTTP port takes beside http/protobuf), not gRPC; set "
                         "it to http/json and point the endpoint at the HTTP port (4318)",
                         vars[i], p);
         return false;
      }
      if (p) {
         break;
      }
   }
   return true;
}

static struct curl_slist *
make_headers (const mwatch_curl_api_t *api, const char *const *pairs)
{
   struct curl_slist *list = api->slist_append (NULL, "Content-Type: application/json");
   for (size_t i = 0; pairs && pairs[i]; i += 2) {
      char *line = bson_strdup_printf ("%s: %s", pairs[i], pairs[i + 1] ? pairs[i + 1] : "");
      list = api->slist_append (list, line);
      bson_free (line);
   }
   return list;
}

/* Each header can be one line of the request (no CR, LF or other control
 * character to end it and start another).  The error names the header,
 * never its value: an API key, often. */
static bool
check_headers (const char *const *pairs, const char *where, bson_error_t *error)
{
   for (size_t i = 0; pairs && pairs[i]; i += 2) {
      const char *fault = _mwatch_otlp_header_fault (pairs[i], pairs[i + 1]);
      if (fault) {
         /* The name up to its first character that is not shown. */
         size_t shown = 0;
         while (pairs[i][shown] && (unsigned char) pairs[i][shown] >= 0x20 && pairs[i][shown] != 0x7f) {
            shown++;
         }
         bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                         "otlp handler: %s: header \"%.*s\"%s: %s", where, (int) shown, pairs[i],
                         pairs[i][shown] ? "..." : "", fault);
         return false;
      }
   }
   return true;
}

static bool
check_sizes (const mwatch_otlp_opts_t *opts, const char **key, bson_error_t *error)
{
   const char *bad = !opts->max_queue_size        ? "max_queue_size"
                     : !opts->max_queue_bytes     ? "max_queue_bytes"
                     : !opts->max_batch_size      ? "max_batch_size"
                     : !(opts->schedule_delay_sec >= 0) ? "schedule_delay_sec"
                     : !(opts->export_timeout_sec > 0)  ? "export_timeout_sec"
                     : !(opts->backoff_max_sec > 0)     ? "backoff_max_sec"
                     : !(opts->shutdown_timeout_sec > 0) ? "shutdown_timeout_sec"
                     : opts->metrics && !(opts->metrics_interval_sec > 0) ? "metrics_interval_sec"
                                                         : NULL;
   if (bad) {
      *key = bad;
      bson_set_error (error, MWATCH_ERROR_DOMAIN, MWATCH_ERROR_INVALID_ARGUMENT,
                      "otlp handler: %s must be greater than 0", bad);
      return false;
   }
   return true;
}

mwatch_handler_t *
mwatch_handler_new_otlp (const mwatch_otlp_opts_t *opts, bson_error_t *error)
{
   const char *key;
   return _mwatch_otlp_handler_new (opts, &key, error);
}

mwatch_handler_t *
_mwatch_otlp_handler_new (const mwatch_otlp_opts_t *opts, const char **key, bson_error_t *error)
{
   mwatch_otlp_opts_t defaults;
   if (!opts) {
      mwatch_otlp_opts_init (&defaults);
      opts = &defaults;
   }
   /* The protocol's variable is about where the endpoint points. */
   *key = "endpoint";
   if (!check_sizes (opts, key, error) || !check_protocol (error)) {
      return NULL;
   }
   /* The first handler loads libcurl; a program without one never maps it. */
   *key = "class";
   const mwatch_curl_api_t *curl = _mwatch_curl_api (error);
   if (!curl) {
      return NULL;
   }

   const char *base = opts->endpoint;
   const char *base_what = "endpoint";
   if (!base && (base = env ("OTEL_EXPORTER_OTLP_ENDPOINT"))) {
      base_what = "OTEL_EXPORTER_OTLP_ENDPOINT";
   }
   base = base ? base : DEFAULT_ENDPOINT;
   *key = opts->logs_endpoint || env ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") ? "logs_endpoint" : "endpoint";
   char *logs_url = signal_url (opts->logs_endpoint, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", base,
                                base_what, "logs", error);
   if (logs_url) {
      *key = opts->traces_endpoint || env ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ? "traces_endpoint"
                                                                                 : "endpoint";
   }
   char *traces_url = logs_url ? signal_url (opts->traces_endpoint,
                                             "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", base, base_what,
                                             "traces", error)
                               : NULL;
   if (traces_url) {
      *key = opts->metrics_endpoint || env ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") ? "metrics_endpoint"
                                                                                   : "endpoint";
   }
   char *metrics_url = traces_url ? signal_url (opts->metrics_endpoint,
                                                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", base,
                                                base_what, "metrics", error)
                                  : NULL;
   /* Resource: the configuration's pairs over OTEL_RESOURCE_ATTRIBUTES. */
   char **env_attrs = NULL, **env_headers = NULL;
   const char *text;
   bool ok = metrics_url != NULL;
   *key = ok ? "resource_attributes" : *key;
   if (ok && (text = env ("OTEL_RESOURCE_ATTRIBUTES"))) {
      ok = (env_attrs = _mwatch_otlp_parse_pairs (text, "OTEL_RESOURCE_ATTRIBUTES", error)) != NULL;
   }
   const char *header_var = env ("OTEL_EXPORTER_OTLP_LOGS_HEADERS") ? "OTEL_EXPORTER_OTLP_LOGS_HEADERS"
                                                                     : "OTEL_EXPORTER_OTLP_HEADERS";
   *key = ok ? "headers" : *key;
   if (ok && !opts->headers && (text = env (header_var))) {
      ok = (env_headers = _mwatch_otlp_parse_pairs (text, header_var, error)) != NULL;
   }
   if (ok) {
      ok = check_headers (opts->headers ? opts->headers : (const char *const *) env_headers,
                          opts->headers ? "headers" : header_var, error);
   }
   if (!ok) {
      bson_free (logs_url);
      bson_free (traces_url);
      bson_free (metrics_url);
      _mwatch_otlp_pairs_free (env_attrs);
      _mwatch_otlp_pairs_free (env_headers);
      return NULL;
   }

   otlp_impl_t *impl = bson_malloc0 (sizeof *impl);
   impl->logs_url = logs_url;
   impl->traces_url = traces_url;
   impl->spans = opts->spans;
   impl->metrics = opts->metrics;
   impl->metrics_url = metrics_url;
   impl->metrics_interval_us = (int64_t) (opts->metrics_interval_sec * 1e6);
   impl->metrics_start = mwatch_realtime_us ();
   impl->next_metrics = mwatch_monotonic_us () + impl->metrics_interval_us;
   impl->resource_pairs =
      _mwatch_otlp_pairs_merge (opts->resource_attributes, (const char *const *) env_attrs);
   /* service.name: the setting, OTEL_SERVICE_NAME, the attributes, or
    * OpenTelemetry's "unknown_service:" with the program's name. */
   const char *service = opts->service_name ? opts->service_name : env ("OTEL_SERVICE_NAME");
   for (size_t i = 0; !service && impl->resource_pairs[i]; i += 2) {
      if (strcmp (impl->resource_pairs[i], "service.name") == 0) {
         service = impl->resource_pairs[i + 1];
      }
   }
   impl->service_name = service ? bson_strdup (service)
                                : bson_strdup_printf ("unknown_service:%s", program_invocation_short_name);
   impl->curl = curl;
   impl->headers = make_headers (curl, opts->headers ? opts->headers : (const char *const *) env_headers);
   _mwatch_otlp_pairs_free (env_attrs);
   _mwatch_otlp_pairs_free (env_headers);
   impl->max_queue = opts->max_queue_size;
   impl->max_queue_bytes = opts->max_queue_bytes;
   impl->max_batch = opts->max_batch_size;
   impl->schedule_delay_us = (int64_t) (opts->schedule_delay_sec * 1e6);
   impl->export_timeout_us = (int64_t) (opts->export_timeout_sec * 1e6);
   impl->backoff_max_us = (int64_t) (opts->backoff_max_sec * 1e6);
   impl->shutdown_timeout_us = (int64_t) (opts->shutdown_timeout_sec * 1e6);
   impl->ring = bson_malloc0 (impl->max_queue * sizeof *impl->ring);
   pthread_mutex_init (&impl->lock, NULL);
   _mwatch_cond_init_monotonic (&impl->wake);
   mwatch_buf_init (&impl->encoded);
   mwatch_buf_init (&impl->span_encoded);
   rng_seed (impl);

   mwatch_handler_t *handler = mwatch_handler_new (&otlp_vtable, impl);
   impl->self = handler;
   /* The body is the record's own text: time, level and logger are
    * fields of the log record already. */
   mwatch_formatter_t *body = mwatch_formatter_new ("{message}", NULL, NULL);
   mwatch_handler_set_formatter (handler, body);
   mwatch_formatter_destroy (body);
   /* mwatch_handler_set_formatter marks it explicit: a configuration's
    * formatter, or mwatch_add_logging_handlers's format, still replaces
    * it. */

   pthread_mutex_lock (&live_lock);
   impl->next = live;
   if (live) {
      live->prev = impl;
   }
   live = impl;
   pthread_mutex_unlock (&live_lock);
   return handler;
}

void
mwatch_otlp_handler_stats (mwatch_handler_t *handler, mwatch_otlp_stats_t *stats)
{
   memset (stats, 0, sizeof *stats);
   if (!handler || _mwatch_handler_vtable (handler) != &otlp_vtable) {
      return;
   }
   otlp_impl_t *impl = mwatch_handler_impl (handler);
   pthread_mutex_lock (&impl->lock);
   *stats = impl->stats;
   /* The records not sent yet: an entry whose log record went out stays
    * buffered while its span is sent, and is counted in `sent` already. */
   for (size_t i = 0; i < impl->count; i++) {
      stats->queued += impl->ring[(impl->head + i) % impl->max_queue].log ? 1 : 0;
   }
   pthread_mutex_unlock (&impl->lock);
}

bool
mwatch_otlp_handler_stats_by_name (const char *name, mwatch_otlp_stats_t *stats)
{
   bool found = false;
   memset (stats, 0, sizeof *stats);
   pthread_mutex_lock (&live_lock);
   for (otlp_impl_t *impl = live; impl && !found; impl = impl->next) {
      const char *own = mwatch_handler_get_name (impl->self);
      if (name && own && strcmp (own, name) == 0) {
         mwatch_otlp_handler_stats (impl->self, stats);
         found = true;
      }
   }
   pthread_mutex_unlock (&live_lock);
   return found;
}

/* ---------------------------------------------------------------- fork */

static void
fork_prepare (void)
{
   pthread_mutex_lock (&live_lock);
   for (otlp_impl_t *impl = live; impl; impl = impl->next) {
      pthread_mutex_lock (&impl->lock);
   }
}

static void
fork_parent (void)
{
   for (otlp_impl_t *impl = live; impl; impl = impl->next) {
      pthread_mutex_unlock (&impl->lock);
   }
   pthread_mutex_unlock (&live_lock);
}

/* The child's copies of the buffered records are its parent's, which the
 * parent's sender sends: dropped here, uncounted.  The sender thread did
 * not survive fork(): the child's own starts at its first record (with a
 * curl handle of its own; the parent thread's, copied mid-use perhaps, is
 * left alone), never here, so that a child that only execs (system(),
 * popen()) gets no thread. */
static void
fork_child (void)
{
   for (otlp_impl_t *impl = live; impl; impl = impl->next) {
      entries_clear (impl);
      impl->flush_asked = impl->failing = false;
      memset (&impl->stats, 0, sizeof impl->stats);
      /* The metrics are cumulative per process (process.pid): the child
       * counts from zero, from now. */
      series_clear (impl);
      impl->metrics_gen = impl->metrics_sent_gen = 0;
      impl->metrics_start = mwatch_realtime_us ();
      impl->reported_dropped = 0;
      impl->episode_retries = 0;
      _mwatch_cond_init_monotonic (&impl->wake);
      rng_seed (impl);
      impl->sender_running = false;
      pthread_mutex_unlock (&impl->lock);
   }
   pthread_mutex_unlock (&live_lock);
}

MWATCH_FORK_INIT (fork_init)
{
   _mwatch_fork_register (MWATCH_FORK_RANK_OTLP, fork_prepare, fork_parent, fork_child);
}

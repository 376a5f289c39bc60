/* The held-back registry's hands (lib/watch-pending.c): each thread holds
 * one registered operation without a lock, and a second one registered
 * while its hand is full goes to the locked shards.  Both must come out
 * again, by their owner's removal or by the background thread's
 * promotion, each exactly once, whoever takes them and on whichever
 * thread.  The owners here are counters, not watches: the registry sees
 * only the node and its three operations. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "../../lib/clock-private.h"
#include "../../lib/watch-pending-private.h"
#include "test-util.h"
#include "unit/suites.h"

typedef struct {
   mwatch_pending_node_t node; /* first: the node is the owner */
   atomic_int refs;
   atomic_int promoted;
} owner_t;

static void
owner_ref (mwatch_pending_node_t *node)
{
   atomic_fetch_add (&((owner_t *) node)->refs, 1);
}

static bool
owner_promote (mwatch_pending_node_t *node, int64_t deadline)
{
   (void) deadline;
   owner_t *owner = (owner_t *) node;
   atomic_fetch_add (&owner->promoted, 1);
   atomic_fetch_sub (&owner->refs, 1);
   return true;
}

static void
owner_forget (mwatch_pending_node_t *node)
{
   atomic_fetch_sub (&((owner_t *) node)->refs, 1);
}

static const mwatch_pending_ops_t owner_ops = {
   .ref = owner_ref,
   .promote = owner_promote,
   .forget = owner_forget,
};

static void
owner_init (owner_t *owner)
{
   *owner = (owner_t) {.node = {.prev = NULL}};
   atomic_init (&owner->refs, 0);
   atomic_init (&owner->promoted, 0);
}

/* The owner's removal: true when it took the registry's reference back. */
static bool
owner_remove (owner_t *owner)
{
   if (!_mwatch_pending_remove (&owner->node)) {
      return false;
   }
   atomic_fetch_sub (&owner->refs, 1);
   return true;
}

/* Waits (a few seconds at most) until the background thread promoted
 * `owner`: it promotes what is older than half a second. */
static bool
promoted_within (owner_t *owner, double seconds)
{
   int64_t until = _mwatch_monotonic_now () + (int64_t) (seconds * 1e6);
   while (!atomic_load (&owner->promoted) && _mwatch_monotonic_now () < until) {
      nanosleep (&(struct timespec) {.tv_nsec = 10 * 1000 * 1000}, NULL);
   }
   return atomic_load (&owner->promoted) == 1;
}

/* Two operations at once on one thread: the first goes to the hand, the
 * second, finding it full, to a shard; each comes out by its owner, in
 * either order; the hand, empty again, takes the next. */
static void *
register_two_remove_both (void *arg)
{
   owner_t *owners = arg;
   _mwatch_pending_add (&owners[0].node, &owner_ops);
   _mwatch_pending_add (&owners[1].node, &owner_ops);
   ck_assert_ptr_nonnull (owners[0].node.hand);
   ck_assert_ptr_null (owners[1].node.hand); /* the fallback */
   ck_assert (owner_remove (&owners[1]));
   ck_assert (owner_remove (&owners[0]));
   _mwatch_pending_add (&owners[2].node, &owner_ops);
   ck_assert_ptr_eq (owners[2].node.hand, owners[0].node.hand);
   ck_assert (owner_remove (&owners[2]));
   return NULL;
}

START_TEST (test_hand_and_shard_removed_by_owner)
{
   owner_t owners[3];
   for (int i = 0; i < 3; i++) {
      owner_init (&owners[i]);
   }
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, register_two_remove_both, owners), 0);
   ck_assert_int_eq (pthread_join (thread, NULL), 0);
   for (int i = 0; i < 3; i++) {
      ck_assert_int_eq (atomic_load (&owners[i].refs), 0);
      ck_assert_int_eq (atomic_load (&owners[i].promoted), 0);
      /* Out already: a second removal finds nothing. */
      ck_assert (!_mwatch_pending_remove (&owners[i].node));
   }
}
END_TEST

static void *
register_two (void *arg)
{
   owner_t *owners = arg;
   _mwatch_pending_add (&owners[0].node, &owner_ops);
   _mwatch_pending_add (&owners[1].node, &owner_ops);
   return NULL;
}

/* Both kinds promoted by the background thread, once, after which their
 * owners' removal finds them gone; the thread that registered them has
 * exited meanwhile, and the thread reusing its hand registers in it only
 * once the hand is empty. */
START_TEST (test_hand_and_shard_promoted)
{
   owner_t owners[4];
   for (int i = 0; i < 4; i++) {
      owner_init (&owners[i]);
   }
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, register_two, owners), 0);
   ck_assert_int_eq (pthread_join (thread, NULL), 0);
   ck_assert_ptr_nonnull (owners[0].node.hand);
   ck_assert_ptr_null (owners[1].node.hand);
   /* A thread that may get the exited one's hand, still full. */
   ck_assert_int_eq (pthread_create (&thread, NULL, register_two, owners + 2), 0);
   ck_assert_int_eq (pthread_join (thread, NULL), 0);
   ck_assert_ptr_ne (owners[2].node.hand, owners[0].node.hand);
   for (int i = 0; i < 4; i++) {
      ck_assert (promoted_within (&owners[i], 5.0));
   }
   for (int i = 0; i < 4; i++) {
      ck_assert (!owner_remove (&owners[i]));
      ck_assert_int_eq (atomic_load (&owners[i].refs), 0);
      ck_assert_int_eq (atomic_load (&owners[i].promoted), 1);
   }
}
END_TEST

/* Registered on a thread that then exits; removed on another. */
static void *
register_one (void *arg)
{
   _mwatch_pending_add (&((owner_t *) arg)->node, &owner_ops);
   return NULL;
}

START_TEST (test_removed_after_its_thread_exits)
{
   owner_t owner;
   owner_init (&owner);
   pthread_t thread;
   ck_assert_int_eq (pthread_create (&thread, NULL, register_one, &owner), 0);
   ck_assert_int_eq (pthread_join (thread, NULL), 0);
   ck_assert_ptr_nonnull (owner.node.hand);
   ck_assert (owner_remove (&owner));
   ck_assert_int_eq (atomic_load (&owner.refs), 0);
   ck_assert_int_eq (atomic_load (&owner.promoted), 0);
}
END_TEST

/* An application's key destructor that runs an operation whose first
 * record is held back, at every pass glibc makes over the keys: after the
 * library's own destructor gave the thread's hand back.  The thread must
 * not take a hand again then, which no destructor would give back. */
static pthread_key_t late_key;
static int late_passes;

static void
late_destructor (void *value)
{
   intptr_t pass = (intptr_t) value;
   owner_t owner;
   owner_init (&owner);
   _mwatch_pending_add (&owner.node, &owner_ops);
   ck_assert (owner_remove (&owner));
   if (pass < late_passes) {
      pthread_setspecific (late_key, (void *) (pass + 1));
   }
}

static void *
register_then_exit (void *arg)
{
   owner_t *owner = arg;
   _mwatch_pending_add (&owner->node, &owner_ops);
   ck_assert (owner_remove (owner));
   pthread_setspecific (late_key, (void *) 1);
   return NULL;
}

START_TEST (test_hands_reused_after_late_destructors)
{
   /* Created after the library's key: its destructor runs after the
    * hand's release in each pass. */
   ck_assert_int_eq (pthread_key_create (&late_key, late_destructor), 0);
   late_passes = 8; /* more passes than glibc makes */
   void *seen[2] = {NULL, NULL};
   size_t distinct = 0;
   for (int i = 0; i < 40; i++) {
      owner_t owner;
      owner_init (&owner);
      pthread_t thread;
      ck_assert_int_eq (pthread_create (&thread, NULL, register_then_exit, &owner), 0);
      ck_assert_int_eq (pthread_join (thread, NULL), 0);
      ck_assert_ptr_nonnull (owner.node.hand);
      bool known = false;
      for (size_t j = 0; j < distinct; j++) {
         known = known || seen[j] == owner.node.hand;
      }
      if (!known) {
         /* A hand kept by an exited thread makes every later thread take
          * a new one: 40 distinct hands. */
         ck_assert_uint_lt (distinct, 2);
         seen[distinct++] = owner.node.hand;
      }
   }
   pthread_key_delete (late_key);
}
END_TEST

Suite *
pending_hands_suite (void)
{
   Suite *suite = suite_create ("pending hands");
   TCase *tc = tcase_create ("pending hands");
   tcase_set_timeout (tc, 20);
   tcase_add_test (tc, test_hand_and_shard_removed_by_owner);
   tcase_add_test (tc, test_hand_and_shard_promoted);
   tcase_add_test (tc, test_removed_after_its_thread_exits);
   suite_add_tcase (suite, tc);
   /* A case of its own: ThreadSanitizer ends its own state of a thread in
    * the fourth pass over the keys' destructors, and its interceptors
    * crash on the mutex this case's later passes take (by design: the
    * thread's hand is gone then), so tsan-check runs the other case. */
   TCase *late = tcase_create ("late destructors");
   tcase_set_timeout (late, 20);
   tcase_add_test (late, test_hands_reused_after_late_destructors);
   suite_add_tcase (suite, late);
   return suite;
}

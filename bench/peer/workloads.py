#!/usr/bin/env python3
"""The Python peer of the issue-7 benchmark (bench/workloads.c).

The same seven workloads, written with pymongo, run in two configurations:

  bare     pymongo alone; pymongo.watcher is never imported.
  watched  pymongowatch as its README sets it up: patch_pymongo(), then
           add_logging_handlers() with one logging.FileHandler, keeping its
           defaults (a QueueHandler in front of the file handler, a
           WatchQueue, a started QueueListener, the format
           "{asctime} {name} - {watch}", level INFO).  That is the closest
           match to mongowatch's configuration (c): a queue in front of a
           file handler with the default format.

pymongowatch patches pymongo for the whole process, so every run is a
process of its own:

  workloads.py                  the driver: runs the matrix, prints tables
  workloads.py one CONFIG WORKLOAD THREADS SECONDS [LOG]
                                one run, one result line on stdout

Environment (driver):
  MONGOWATCH_BENCH_URI, else MONGOWATCH_TEST_URI   the server
  BENCH_REPS       repetitions of each configuration (5)
  BENCH_SECONDS    seconds of each run (2)
  BENCH_THREADS    thread counts ("1 8")
  BENCH_WORKLOADS  workloads to time (all seven)

Everything a run does before its clock starts is as in workloads.c: the
same database (mwatch_bench) and collections, seeded the same way (so
either program can reuse what the other seeded), one MongoClient shared by
the threads with a pool of THREADS + 1 connections, a ping and 10 warm-up
operations per thread.  Seeding happens before pymongowatch is set up, so
no record of it reaches the log.

Besides ops/s, each run reports CPU time:
  process      time.process_time() of the whole process (all threads: the
               workers, the queue listener, pymongo's monitor), from just
               before the clock starts until the watched run's log holds a
               line for every operation, so that the listener's work for
               the timed operations is counted;
  app threads  time.thread_time() of the workers inside the timed loop,
               the part that compares with mongowatch's app-thread
               instruction counts.
The server (on the same machine, for FerretDB under test/server) takes most
of the wall clock; CPU time per operation of the client process is what
pymongowatch adds, without the server's share.

A watched run passes only if its log holds at least one line per watched
call (two per delete_one operation, one per operation otherwise), counting
the warm-up: checked in the run once the listener has written them, and by
the driver after the process has exited.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

WORKLOADS = ("find100", "find_id", "insert_one", "insert_many100", "update_one", "delete_one",
             "mixed")
CONFIGS = ("bare", "watched")
BENCH_DB = "mwatch_bench"
KEYED_DOCS = 1000
FIND100_DOCS = 100
WARMUP_OPS = 10
MASK64 = (1 << 64) - 1
# How long a watched run waits for its listener to write the records of
# the operations already done before it calls the run a failure.
DRAIN_TIMEOUT = 30.0
# A whole run, start-up and seeding included, beyond its SECONDS.
RUN_SLACK = 300


class BenchError(Exception):
    pass


def server_uri():
    return os.environ.get("MONGOWATCH_BENCH_URI") or os.environ.get("MONGOWATCH_TEST_URI") or ""


def calls_per_op(workload):
    """Watched calls (so log records) per operation."""
    return 2 if workload == "delete_one" else 1


# ------------------------------------------------------------------ one run


class Worker:
    """One application thread: its collections, its key generator and its
    own range of _id values, as a worker_t in workloads.c."""

    def __init__(self, index, client, workload, seconds, warmed, start):
        from bson.int64 import Int64

        self.Int64 = Int64
        self.index = index
        self.client = client
        self.seconds = seconds
        self.warmed = warmed
        self.start = start
        # xorshift64 from the same seed as workloads.c, so that the keys
        # asked for are the same sequence.
        self.rng = (0x9E3779B97F4A7C15 * (index + 1)) & MASK64
        self.next_id = index << 40
        self.ops = 0
        self.cpu = 0.0
        self.t_start = self.t_end = 0.0
        self.error = None
        self.run_op = {
            "find100": self.op_find100,
            "find_id": self.op_find_id,
            "insert_one": self.op_insert_one,
            "insert_many100": self.op_insert_many100,
            "update_one": self.op_update_one,
            "delete_one": self.op_delete_one,
            "mixed": self.op_mixed,
        }[workload]

    def rand(self):
        x = self.rng
        x ^= (x << 13) & MASK64
        x ^= x >> 7
        x ^= (x << 17) & MASK64
        self.rng = x
        return x

    def op_find100(self):
        n = 0
        for _ in self.find100.find({}, batch_size=10):
            n += 1
        if n != FIND100_DOCS:
            raise BenchError(f"find100 got {n} documents")

    def op_find_id(self):
        n = 0
        for _ in self.keyed.find({"_id": self.Int64(self.rand() % KEYED_DOCS)}, limit=1):
            n += 1
        if n != 1:
            raise BenchError(f"find_id got {n} documents")

    def insert_one(self, _id):
        self.writes.insert_one({"_id": self.Int64(_id), "n": self.Int64(0), "name": "w"})

    def delete_one(self, _id):
        self.writes.delete_one({"_id": self.Int64(_id)})

    def op_insert_one(self):
        self.insert_one(self.next_id)
        self.next_id += 1

    def op_insert_many100(self):
        first = self.next_id
        self.next_id += 100
        Int64 = self.Int64
        self.writes.insert_many(
            [{"_id": Int64(i), "n": Int64(0), "name": "w"} for i in range(first, first + 100)])

    def op_update_one(self):
        self.keyed.update_one({"_id": self.Int64(self.rand() % KEYED_DOCS)}, {"$inc": {"n": 1}})

    def op_delete_one(self):
        _id = self.next_id
        self.next_id += 1
        self.insert_one(_id)
        self.delete_one(_id)

    def op_mixed(self):
        step = self.ops % 10
        if step == 0:
            self.op_find100()
        elif step in (1, 4):
            self.op_update_one()
        elif step == 2:
            self.insert_one(self.next_id)
        elif step == 3:
            # Deletes what step 2 inserted, so the collection stays small.
            self.delete_one(self.next_id)
            self.next_id += 1
        else:
            self.op_find_id()

    def main(self):
        try:
            db = self.client[BENCH_DB]
            self.find100 = db["find100"]
            self.keyed = db["keyed"]
            self.writes = db["writes"]
            # A round trip and a few operations before the clock, as in
            # workloads.c: the pool's connection for this thread, and the
            # first-call costs, stay out of the run.
            self.client.admin.command("ping")
            for _ in range(WARMUP_OPS):
                self.run_op()
                self.ops += 1
            self.ops = 0
            self.warmed.wait()
            self.start.wait()
        except threading.BrokenBarrierError:
            return
        except Exception as e:  # noqa: BLE001 - reported by the run
            self.error = f"warm-up: {type(e).__name__}: {e}"
            self.warmed.abort()
            self.start.abort()
            return
        # Each thread takes its own deadline once every thread is ready.
        cpu0 = time.thread_time()
        self.t_start = time.monotonic()
        deadline = self.t_start + self.seconds
        try:
            while time.monotonic() < deadline:
                self.run_op()
                self.ops += 1
        except Exception as e:  # noqa: BLE001 - reported by the run
            self.error = f"{type(e).__name__}: {e}"
        self.t_end = time.monotonic()
        self.cpu = time.thread_time() - cpu0


class LineCounter:
    """Counts the lines written so far to a file that keeps growing."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.lines = 0

    def count(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        self.lines += data.count(b"\n")
        return self.lines

    def wait_for(self, want, timeout):
        deadline = time.monotonic() + timeout
        while self.count() < want:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True


def seed_collection(coll, count):
    from bson.int64 import Int64

    # As in workloads.c: reads only need the documents to be there.
    if coll.count_documents({}) != count:
        coll.drop()
        coll.insert_many(
            [{"_id": Int64(i), "n": Int64(0), "name": "seed"} for i in range(count)])


def seed(client, workload):
    db = client[BENCH_DB]
    if workload in ("find100", "mixed"):
        seed_collection(db["find100"], FIND100_DOCS)
    if workload in ("find_id", "update_one", "mixed"):
        seed_collection(db["keyed"], KEYED_DOCS)
    if workload in ("insert_one", "insert_many100", "delete_one", "mixed"):
        # Writes start from an empty collection in every run.
        db["writes"].drop()


def setup_watched(log_path):
    import logging

    from pymongo import watcher

    watcher.patch_pymongo()
    watcher.add_logging_handlers(logging.FileHandler(log_path, encoding="utf-8"))


def run_one(config, workload, threads, seconds, log_path):
    from pymongo import MongoClient

    uri = server_uri()
    if not uri:
        raise BenchError("set MONGOWATCH_BENCH_URI or MONGOWATCH_TEST_URI")
    watched = config == "watched"
    client = MongoClient(uri, maxPoolSize=threads + 1)
    seed(client, workload)
    if watched:
        setup_watched(log_path)
        counter = LineCounter(log_path)

    warmed = threading.Barrier(threads + 1)
    start = threading.Barrier(threads + 1)
    workers = [Worker(i, client, workload, seconds, warmed, start) for i in range(threads)]
    pool = [threading.Thread(target=w.main, name=f"worker-{w.index}") for w in workers]
    for t in pool:
        t.start()

    def failure():
        return next((f"thread {w.index}: {w.error}" for w in workers if w.error), None)

    try:
        warmed.wait()
        warmup_records = calls_per_op(workload) * WARMUP_OPS * threads
        # The records of the warm-up are written before the clock starts,
        # so that the CPU time below is that of the timed operations.
        if watched and not counter.wait_for(warmup_records, DRAIN_TIMEOUT):
            start.abort()
            for t in pool:
                t.join()
            raise BenchError(f"warm-up: {warmup_records} watched calls but "
                             f"{counter.lines} log lines after {DRAIN_TIMEOUT:.0f} s")
        cpu0 = time.process_time()
        start.wait()
    except threading.BrokenBarrierError:
        for t in pool:
            t.join()
        raise BenchError(failure() or "a worker failed") from None
    for t in pool:
        t.join()
    error = failure()
    if error:
        raise BenchError(error)

    ops = sum(w.ops for w in workers)
    seconds_run = max(w.t_end for w in workers) - min(w.t_start for w in workers)
    records = calls_per_op(workload) * (ops + WARMUP_OPS * threads)
    if watched and not counter.wait_for(records, DRAIN_TIMEOUT):
        raise BenchError(f"{records} watched calls but {counter.lines} log lines "
                         f"{DRAIN_TIMEOUT:.0f} s after the run")
    cpu_process = time.process_time() - cpu0
    cpu_app = sum(w.cpu for w in workers)
    print(f"{config} {workload} {threads} {ops} {seconds_run:.6f} {ops / seconds_run:.1f} "
          f"{cpu_process:.6f} {cpu_app:.6f} {records if watched else 0}", flush=True)
    client.close()
    # The queue listener is stopped, and what it still holds written, by
    # the atexit hook pymongowatch registered.


def one_main(argv):
    usage = "usage: workloads.py one bare|watched WORKLOAD THREADS SECONDS [LOG]"
    if len(argv) not in (4, 5):
        sys.exit(usage)
    config, workload, threads, seconds = argv[:4]
    if (config not in CONFIGS or workload not in WORKLOADS or not threads.isdigit()
            or int(threads) < 1):
        sys.exit(usage)
    if config == "watched" and len(argv) != 5:
        sys.exit("workloads.py: a watched run needs the LOG file")
    from pymongo.errors import PyMongoError

    try:
        run_one(config, workload, int(threads), float(seconds), argv[4] if len(argv) == 5 else None)
    except (BenchError, PyMongoError) as e:
        sys.exit(f"workloads.py: {config} {workload} {threads}: {e}")


# ------------------------------------------------------------------ driver


class Result:
    def __init__(self, line):
        f = line.split()
        self.ops = int(f[3])
        self.seconds = float(f[4])
        self.ops_per_sec = float(f[5])
        self.cpu_process = float(f[6])
        self.cpu_app = float(f[7])
        self.records = int(f[8])

    @property
    def us_process(self):
        return 1e6 * self.cpu_process / self.ops if self.ops else float("nan")

    @property
    def us_app(self):
        return 1e6 * self.cpu_app / self.ops if self.ops else float("nan")


def count_lines(path):
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


class RunFailed(Exception):
    """A run that ended with an error of its own: reported, not measured."""


def spawn(config, workload, threads, seconds, log_path):
    cmd = [sys.executable, os.path.abspath(__file__), "one", config, workload, str(threads),
           str(seconds)]
    if config == "watched":
        # Empty before every run: the check below counts this run's lines.
        open(log_path, "wb").close()
        cmd.append(log_path)
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=seconds + RUN_SLACK, check=False)
    except subprocess.TimeoutExpired:
        sys.exit(f"workloads.py: {config} {workload} {threads} took longer than "
                 f"{seconds + RUN_SLACK:.0f} s")
    lines = proc.stdout.split("\n")
    if proc.returncode != 0 or not lines[0].startswith(config + " "):
        why = [l for l in proc.stderr.split("\n") if l.strip()]
        raise RunFailed(why[-1] if why else f"exit status {proc.returncode}")
    result = Result(lines[0])
    if config == "watched":
        written = count_lines(log_path)
        if written < max(result.records, result.ops):
            sys.exit(f"workloads.py: watched {workload} {threads}: {result.ops} operations "
                     f"({result.records} watched calls) but {written} log lines")
    return result


def median_range(values, fmt):
    return (f"{fmt.format(statistics.median(values))} "
            f"({fmt.format(min(values))}-{fmt.format(max(values))})")


def ratio(a, b):
    return f"{a / b:.3f}" if b else "-"


def describe_server(uri):
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    try:
        with MongoClient(uri, serverSelectionTimeoutMS=10000) as client:
            info = client.admin.command("buildInfo")
    except PyMongoError as e:
        sys.exit(f"workloads.py: no server at {uri}: {e}")
    text = f"MongoDB {info.get('version', '?')}"
    if "ferretdbVersion" in info:
        text = f"FerretDB {info['ferretdbVersion']} ({text} protocol)"
    return text


def driver_main():
    from importlib import metadata

    import bson
    import pymongo

    uri = server_uri()
    if not uri:
        sys.exit("workloads.py: set MONGOWATCH_BENCH_URI or run under test/server")
    try:
        reps = int(os.environ.get("BENCH_REPS", "5"))
        seconds = float(os.environ.get("BENCH_SECONDS", "2"))
        thread_counts = [int(t) for t in os.environ.get("BENCH_THREADS", "1 8").split()]
    except ValueError as e:
        sys.exit(f"workloads.py: BENCH_REPS, BENCH_SECONDS, BENCH_THREADS: {e}")
    workloads = os.environ.get("BENCH_WORKLOADS", " ".join(WORKLOADS)).split()
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        sys.exit(f"workloads.py: unknown in BENCH_WORKLOADS: {' '.join(unknown)}")
    if reps < 1 or seconds <= 0 or not thread_counts or min(thread_counts) < 1:
        sys.exit("workloads.py: BENCH_REPS, BENCH_SECONDS and BENCH_THREADS must be positive")
    # Without them pymongo runs its pure-Python BSON, several times slower:
    # not the pymongo anyone runs, and not a fair peer.
    if not (pymongo.has_c() and bson.has_c()):
        sys.exit("workloads.py: pymongo was built without its C extensions "
                 "(install a C compiler and the Python headers, remove the venv, run again)")
    os.environ["MONGOWATCH_BENCH_URI"] = uri

    print("## Python peer: pymongo bare and watched by pymongowatch")
    print()
    print(f"Server: {uri}, {describe_server(uri)}")
    print()
    print(f"Client: Python {sys.version.split()[0]}, pymongo {pymongo.version} "
          f"(C extensions), pymongowatch {metadata.version('pymongowatch')}; "
          "one process per run")
    print()
    print(f"### Throughput: ops/s, median (min-max) of {reps} runs of {seconds:g} s, "
          "interleaved")
    print()
    print("| workload | threads | bare | watched | watched/bare |")
    print("| --- | --- | --- | --- | --- |", flush=True)

    cpu_rows = []
    failures = []
    with tempfile.TemporaryDirectory(prefix="mongowatch-peer.") as tmp:
        log_path = os.path.join(tmp, "watch.log")
        for workload in workloads:
            for threads in thread_counts:
                runs = {c: [] for c in CONFIGS}
                for _ in range(reps):
                    for config in CONFIGS:
                        try:
                            runs[config].append(
                                spawn(config, workload, threads, seconds, log_path))
                        except RunFailed as e:
                            failures.append(f"{config} {workload} {threads}: {e}")
                if not all(runs.values()):
                    print(f"| {workload} | {threads} | no complete pair of runs (see below) "
                          "| | |", flush=True)
                    continue
                ops = {c: [r.ops_per_sec for r in runs[c]] for c in CONFIGS}
                print(f"| {workload} | {threads} | {median_range(ops['bare'], '{:.0f}')} | "
                      f"{median_range(ops['watched'], '{:.0f}')} | "
                      f"{ratio(statistics.median(ops['watched']), statistics.median(ops['bare']))} |",
                      flush=True)
                proc = {c: [r.us_process for r in runs[c]] for c in CONFIGS}
                app = {c: statistics.median(r.us_app for r in runs[c]) for c in CONFIGS}
                proc_bare = statistics.median(proc["bare"])
                proc_watched = statistics.median(proc["watched"])
                cpu_rows.append(
                    f"| {workload} | {threads} | {median_range(proc['bare'], '{:.0f}')} | "
                    f"{median_range(proc['watched'], '{:.0f}')} | "
                    f"{ratio(proc_watched, proc_bare)} | {proc_watched - proc_bare:+.0f} | "
                    f"{app['bare']:.0f} | {app['watched']:.0f} | "
                    f"{ratio(app['watched'], app['bare'])} |")

    if failures:
        print()
        print(f"Runs that failed, left out of the medians ({len(failures)}):")
        print()
        for failure in failures:
            print(f"- {failure}")
    print()
    print(f"### Client CPU time per operation, µs: median (min-max) of the same {reps} runs, "
          "median only for app threads")
    print()
    print("| workload | threads | bare, process | watched, process | watched/bare | "
          "watched - bare | bare, app threads | watched, app threads | watched/bare |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in cpu_rows:
        print(row)
    print()
    print("Process: time.process_time() of the whole client process (worker threads, the")
    print("queue listener, pymongo's monitor), from the start of the timed loop until the")
    print("watched log holds every record of it. App threads: time.thread_time() of the")
    print("workers inside the timed loop. A delete_one operation is two calls.")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "one":
        one_main(sys.argv[2:])
    elif len(sys.argv) == 1:
        driver_main()
    else:
        sys.exit("usage: workloads.py   (the whole benchmark; settings in the environment)\n"
                 "       workloads.py one bare|watched WORKLOAD THREADS SECONDS [LOG]")


if __name__ == "__main__":
    main()

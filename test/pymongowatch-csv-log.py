"""Writes a real pymongowatch CSV log for test/pymongowatch-csv-check.

Usage: PYTHON pymongowatch-csv-log.py SAMPLE_YAML LOG URI DB

Runs pymongowatch 1.0.0 (the venv test/pymongowatch-env made) against the
server at URI with its sample configuration (SAMPLE_YAML, as shipped),
changed only where a test must: the CSV file handler writes LOG, the
console handler and the rate filters (which hold inserts back for an hour)
are left out, and the timeouts are one second.  So LOG holds what the
sample's file_queue_handler writes (final records, and a timeout record
before the final one of an operation that outlived its timeout), after
the header the sample's `csv` section writes.  A second handler on the same
file writes every first and update record as it is emitted (as a
handler without a queue does), so that each cursor has several rows with
rising Iterations before its final one.

The slow cursor: read one batch, then wait until its timeout record is in
LOG (the condition itself, read from the file, up to 30 s), then read on.
"""
import atexit
import logging
import logging.config
import sys
import time

import pymongo
import pymongo.watcher
import yaml

sample, log_path, uri, db_name = sys.argv[1:5]

with open(sample) as fp:
    config = yaml.safe_load(fp)

config["watchers"]["global"]["timeout_sec"] = 1
config["watchers"]["cursor"]["timeout_sec"] = 1
config["handlers"]["file"]["filename"] = log_path
config["handlers"]["file"]["level"] = "DEBUG"
del config["handlers"]["console_queue_handler"]
del config["handlers"]["console"]
config["handlers"]["file_queue_handler"]["filters"] = ["mask"]
for name in ("console_insert_rate", "file_insert_rate", "slow"):
    del config["filters"][name]
config["loggers"]["pymongo.watcher"]["handlers"] = ["file_queue_handler"]
# No manager process: the queue lives in this process, so that its
# listener is stopped (and has written everything) when this one exits.
config["handlers"]["file_queue_handler"]["enable_multiprocessing"] = False

pymongo.watcher.dictConfig(config)
logging.config.dictConfig(config)
pymongo.watcher.patch_pymongo()
# pymongowatch 1.0.0 patches the names pymongo < 4.9 looked its classes up
# by; pymongo >= 4.9 (which pip installs next to it) looks them up in
# pymongo.synchronous.*: point those names at the watchers too
# (where pymongo < 4.9 is installed, none of this is done).
try:
    import pymongo.synchronous.collection
    import pymongo.synchronous.database
    from pymongo.watcher.collection import WatchCollection
    from pymongo.watcher.cursor import WatchCursor
    pymongo.synchronous.database.Collection = WatchCollection
    pymongo.synchronous.collection.Cursor = WatchCursor
    # ... and keeps a cursor's filter in _spec, no longer in the
    # name-mangled _Cursor__spec the watcher reads.
    WatchCursor._Cursor__spec = property(lambda self: self._spec)
except ImportError:
    pass

SLOW = "slow_items"
direct = logging.FileHandler(log_path)
direct.setLevel(logging.DEBUG)
direct.setFormatter(logging.Formatter(config["formatters"]["csv"]["format"], style="{"))
direct.addFilter(lambda record: not record.watch.final and record.watch.get("Collection") != SLOW)
logging.getLogger("pymongo.watcher").addHandler(direct)

client = pymongo.MongoClient(uri)
db = client[db_name]
items = db["items"]

items.insert_many([{"n": i, "group": i % 3, "name": f"item, \"{i}\""} for i in range(23)])
items.insert_one({"n": 100, "note": "line one\nline two"})
items.insert_one({"n": 101})
items.update_one({"n": 1}, {"$set": {"seen": True}})
items.update_many({"group": 2}, {"$inc": {"n": 1000}})
assert sum(1 for _ in items.find({"group": {"$in": [0, 1]}}).batch_size(4)) == 16
assert len(list(items.find({}, {"name": 1}).sort("n").batch_size(5))) == 25
assert items.find_one({"n": 101}) is not None
assert items.count_documents({"group": 0}) == 8
items.delete_one({"n": 101})
items.replace_one({"n": 100}, {"n": 100, "replaced": "yes"})

slow = db[SLOW]
slow.insert_many([{"n": i} for i in range(6)])
cursor = slow.find({"n": {"$gte": 0}}).batch_size(2)
next(cursor)
watch_id = cursor._watch_log["WatchID"]
deadline = time.monotonic() + 30
while True:
    with open(log_path) as fp:
        if watch_id in fp.read():
            break
    if time.monotonic() > deadline:
        sys.exit(f"no timeout record of the slow cursor {watch_id} in {log_path} after 30 s")
    time.sleep(0.05)
assert len(list(cursor)) == 5

client.close()
for listener in pymongo.watcher.queue_listners:
    listener.stop()
    atexit.unregister(listener.stop)
pymongo.watcher.queue_listners.clear()
logging.shutdown()
print(watch_id)

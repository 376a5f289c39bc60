"""The pymongowatch half of test/pymongowatch-check.

    python scenario.py URI DB LOG

Runs, through pymongo patched by pymongowatch 1.0.0 (patch_pymongo), the
same operations as test/pymongowatch/scenario.c, in the same order, in
database DB, and writes every record pymongowatch logs to LOG as one JSON
object a line, with every field of its WatchMessage.

The records go through pymongowatch's logging API as its README sets it
up: the "pymongo.watcher" logger at DEBUG, a handler with the filters
setup_queue_handler() puts on its queue by default (RestoreOriginalWatcher
and AddPymongoResults: the latter turns the pymongo result objects into
the *Count fields).  The handler sits on the logger without the WatchQueue,
so that every state of every operation is written as it was at that
moment (a WatchMessage is one mutable dict); the comparison keeps the last
one of each WatchID, which is what the queue would have written last.

Values that JSON has no form for are written as {"$python": "TYPE: REPR"},
so that the comparison can see a Python object where a count belongs.
"""

import datetime
import json
import logging
import sys

import bson
import pymongo
import pymongo.errors
import pymongo.watcher
from pymongo.watcher import filters as watch_filters


def plain(value):
    """The value as JSON can hold it (see the module's comment)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bson.ObjectId):
        return str(value)
    return {"$python": f"{type(value).__module__}.{type(value).__qualname__}: {value!r}"}


class JsonLines(logging.Formatter):
    """One record: its logger, level and every field of its WatchMessage."""

    def format(self, record):
        watch = getattr(record, "watch", {})
        return json.dumps({"logger": record.name, "level": record.levelname,
                           "watch": plain(dict(watch))})


def read(cursor, count=None):
    """Reads COUNT documents of CURSOR (all without COUNT)."""
    for n, _ in enumerate(cursor, 1):
        if count is not None and n >= count:
            break


def deploy(coll):
    """Steps 1-8: the body of deploy_test.py's test(), on COLL."""
    it1 = coll.find()
    read(it1, 10)                           # 1: abandoned, never closed
    it2 = coll.find({"a": {"$lt": 20}})
    it2.batch_size(8)
    with it2:
        read(it2, 5)                        # 2
    it3 = coll.find({"a": {"$lt": 30}})
    list(it3[5:10])                         # 3
    it4 = coll.find({"a": {"$lt": 40}})
    it4[20]                                 # 4
    it4[30]                                 # 5
    list(coll.find({"a": {"$lt": 50}}))     # 6
    it2.rewind()
    list(it2)                               # 7
    it5 = coll.find({"a": {"$lt": 60}})
    it5.batch_size(5)
    read(it5, 31)                           # 8
    it5.close()
    return it1


def operations(coll):
    """Steps 9-25: every other operation both sides watch."""
    list(coll.find({"a": {"$gte": 10}}).batch_size(7))             # 9
    coll.find_one({"a": 3})                                         # 10
    coll.insert_one({"a": 100})                                     # 11
    coll.insert_many([{"a": 101}, {"a": 102}, {"a": 103}])          # 12
    coll.update_one({"a": 100}, {"$set": {"b": 1}})                 # 13
    coll.update_many({"a": {"$gt": 100}}, {"$set": {"b": 2}})       # 14
    coll.replace_one({"a": 101}, {"a": 101, "c": 1})                # 15
    coll.delete_one({"a": 102})                                     # 16
    coll.delete_many({"a": {"$gte": 100}})                          # 17
    coll.count_documents({"a": {"$lt": 10}})                        # 18
    coll.distinct("a", {"a": {"$lt": 5}})                           # 19
    list(coll.aggregate([{"$match": {"a": {"$lt": 3}}}]))           # 20
    coll.find_one_and_update({"a": 1}, {"$set": {"u": 1}})          # 21
    coll.find_one_and_replace({"a": 2}, {"a": 2, "r": 1})           # 22
    coll.find_one_and_delete({"a": 3})                              # 23
    coll.insert_one({"_id": "twice"})                               # 24
    try:
        coll.insert_one({"_id": "twice"})                           # 25
    except pymongo.errors.DuplicateKeyError:
        pass
    else:
        sys.exit("scenario.py: the second insert of _id 'twice' did not fail")


def main():
    uri, db, log = sys.argv[1:]
    handler = logging.FileHandler(log)
    handler.setFormatter(JsonLines())
    handler.addFilter(watch_filters.RestoreOriginalWatcher())
    handler.addFilter(watch_filters.AddPymongoResults())
    logger = logging.getLogger("pymongo.watcher")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    pymongo.watcher.patch_pymongo()

    client = pymongo.MongoClient(uri)
    coll = client[db].pywatch
    coll.insert_many([{"a": i} for i in range(60)])                 # 0
    # it1 stays referenced until the end, as it is in deploy_test.py's
    # test() until it returns.
    it1 = deploy(coll)
    operations(coll)
    del it1
    client.close()
    handler.close()


if __name__ == "__main__":
    main()

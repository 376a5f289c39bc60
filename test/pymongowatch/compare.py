"""Compares what pymongowatch and mongowatch logged of one scenario.

    python3 compare.py PY.jsonl PY_DB C.jsonl C_DB

PY.jsonl: test/pymongowatch/scenario.py's records ({"logger", "level",
"watch"} a line); C.jsonl: mongowatch's {watch.json} lines of
test/pymongowatch/scenario.c.  Each side's FINAL record of each operation
is the last record of its WatchID; the operations are taken in the order
they started (their first record), and compared field by field, in order.

Compared: every field either side has (DB as "the side's own database"),
except the record's bookkeeping: WatchID, Iteration and State (only as
"both final"), StartTime, EndTime and Duration (only as "present and
plausible"), and pymongowatch's internal fields (a leading "_", which
pymongowatch itself never prints).

The differences pymongowatch and mongowatch are known to have, on purpose,
are KNOWN below, each with its reason (doc/migrating-from-pymongowatch.md
says the same to users).  A difference not in the table fails the
comparison, with both records printed; so does a known difference that
this run did not show where it was expected (KNOWN entries marked
"expected": the scenario was made to show them).

Exit status: 0 same up to KNOWN, 1 a difference, 2 bad input.
"""

import datetime
import json
import sys

BOOKKEEPING = {"WatchID", "Iteration", "State", "StartTime", "EndTime", "Duration"}
ABSENT = object()

# What pymongowatch calls an operation, where its name is not mongowatch's.
FIND_AND_MODIFY = {"find_one_and_update", "find_one_and_replace", "find_one_and_delete"}


def is_python_object(value):
    return isinstance(value, dict) and set(value) == {"$python"}


# The known differences: (field, when, reason, expected).  `when` gets the
# field's value in the pymongowatch record, in the mongowatch record (ABSENT
# where the record has no such field) and the two records, and says whether
# this is the known difference.  `expected`: the scenario shows it (an
# entry never seen then fails the run: the scenario, or one side, changed).
KNOWN = [
    ("Operation",
     lambda p, c, P, C: p == "get_more" and c == "find",
     "pymongowatch logs every find's cursor as get_more (its WatchCursor "
     "names the operation by the getMore that most reads are); mongowatch "
     "names the command the application ran, find",
     True),
    ("Operation",
     lambda p, c, P, C: p in FIND_AND_MODIFY and c == "find_and_modify",
     "pymongowatch names pymongo's three methods; libmongoc has one call "
     "for the three, mongoc_collection_find_and_modify_with_opts, and "
     "mongowatch names it; the counts say which it was",
     True),
    ("MatchedCount",
     lambda p, c, P, C: (P.get("Operation") == "get_more" and isinstance(p, int)
                         and isinstance(c, int) and p > c),
     "pymongowatch counts the documents the cursor fetched from the server "
     "(pymongo's Cursor.retrieved: whole batches); mongowatch the documents "
     "the application received.  They differ when the application stops "
     "before the end of a batch (deploy_test.py's it1, it2, it5)",
     True),
    ("MatchedCount",
     lambda p, c, P, C: P.get("Operation") == "aggregate" and p is ABSENT and isinstance(c, int),
     "pymongowatch watches aggregate as a collection call and leaves its "
     "CommandCursor unwatched, so it never counts what the pipeline "
     "returned; mongowatch watches the aggregate's cursor like a find's",
     True),
    ("MatchedCount",
     lambda p, c, P, C: P.get("Operation") in FIND_AND_MODIFY and p is ABSENT and c in (0, 1),
     "pymongowatch's find_one_and_* map their result to ModifiedCount or "
     "DeletedCount only; mongowatch also gives the server's n (documents "
     "matched) as MatchedCount",
     True),
    ("Filter",
     lambda p, c, P, C: (P.get("Operation") in FIND_AND_MODIFY | {"count_documents", "distinct"}
                         and p is ABSENT and c is not ABSENT),
     "pymongowatch's default operations table maps the filter argument to "
     "Filter for update/replace/delete only (and the pipeline for aggregate); "
     "the other operations' filters are dropped as undefined arguments.  "
     "mongowatch logs every operation's query",
     True),
    ("InsertedCount",
     lambda p, c, P, C: is_python_object(p) and "InsertOneResult" in p["$python"] and c == 1,
     "pymongowatch's insert_one entry (_result: {to: InsertedCount, value: 1}) "
     "stores the InsertOneResult object itself: `value` applies to arguments, "
     "not to the result; its logs show <pymongo.results.InsertOneResult ...>",
     True),
    ("InsertedCount",
     lambda p, c, P, C: p is None and c == 0 and C.get("Error"),
     "after an operation failed, pymongowatch stores the result it never got "
     "(None); mongowatch counts what was inserted, nothing",
     True),
    ("UpsertedCount",
     lambda p, c, P, C: p is ABSENT and c == 0,
     "pymongo's UpdateResult has upserted_id, not upserted_count, so "
     "pymongowatch's AddPymongoResults never fills UpsertedCount; mongowatch "
     "takes it from the server's reply",
     True),
    ("Update",
     lambda p, c, P, C: p is ABSENT and c is not ABSENT,
     "mongowatch logs an update's or replacement's document as Update (and "
     "redacts it like Filter); pymongowatch's default table drops the update "
     "argument",
     True),
    ("Error",
     lambda p, c, P, C: p is ABSENT and isinstance(c, str) and c,
     "pymongowatch has no Error field: a failed operation is logged like a "
     "successful one with its result None; mongowatch writes the error",
     True),
]

# Known differences this scenario cannot show: printed, never counted.
NOT_EXERCISED = [
    ("timeouts",
     "pymongowatch times an operation out only in its WatchQueue, from the "
     "first record it was given: with the pymongo.watcher logger at INFO "
     "(its README's add_logging_handlers default) the DEBUG first record "
     "never reaches the queue and a hung operation is never logged.  "
     "mongowatch's queue keeps every operation's first record for its "
     "timeout whatever the levels.  This scenario has no hung operation, "
     "and scenario.py logs without the queue"),
]


def load(path, python):
    """The last record of each WatchID, in the order of their first."""
    last, order = {}, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                record = json.loads(line)
            except ValueError as e:
                sys.exit(f"{path}:{n}: not JSON ({e}): {line[:200]}")
            watch = record["watch"] if python else record
            wid = watch.get("WatchID")
            if not wid:
                sys.exit(f"{path}:{n}: no WatchID: {line[:200]}")
            if wid not in last:
                order.append(wid)
            last[wid] = watch
    if not order:
        sys.exit(f"{path}: no records")
    return [last[w] for w in order]


def merge_find_one(records):
    """pymongo's find_one runs a find through the patched Cursor, so
    pymongowatch writes two records for it: find_one (no Filter,
    MatchedCount 0 or 1), then its cursor's get_more.  libmongoc has no
    find_one (an application asks a find for one document) and mongowatch
    writes one record, the find's.  Keeps the cursor's record, once the
    two agree on the count."""
    out, merged = [], 0
    i = 0
    while i < len(records):
        r = records[i]
        nxt = records[i + 1] if i + 1 < len(records) else None
        if (r.get("Operation") == "find_one" and nxt is not None
                and nxt.get("Operation") == "get_more"
                and nxt.get("MatchedCount") == r.get("MatchedCount")):
            out.append(nxt)
            merged += 1
            i += 2
            continue
        out.append(r)
        i += 1
    return out, merged


def parse_time(value):
    if not isinstance(value, str):
        return None
    try:
        t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=None)


def plausible(record, python):
    """What is wrong with the record's bookkeeping ([] when nothing)."""
    problems = []
    final = (str(record.get("Iteration", "")).startswith("final") if python
             else record.get("State") == "final")
    if not final:
        problems.append(f"not final (Iteration={record.get('Iteration')!r}, "
                        f"State={record.get('State')!r})")
    start, end = parse_time(record.get("StartTime")), parse_time(record.get("EndTime"))
    if start is None or end is None:
        problems.append(f"StartTime/EndTime missing or unreadable: "
                        f"{record.get('StartTime')!r} {record.get('EndTime')!r}")
    elif end < start - datetime.timedelta(milliseconds=1) or end - start > datetime.timedelta(seconds=60):
        problems.append(f"EndTime {end} not within a minute after StartTime {start}")
    d = record.get("Duration")
    if not isinstance(d, (int, float)) or isinstance(d, bool) or not 0 <= d < 60:
        problems.append(f"Duration {d!r} is not 0..60 seconds")
    return problems


def compared(record, own_db):
    view = {k: v for k, v in record.items()
            if k not in BOOKKEEPING and not k.startswith("_")}
    if view.get("DB") == own_db:
        view["DB"] = "<own database>"
    return view


def line(record):
    keys = ["Operation", "Filter", "MatchedCount", "InsertedCount", "UpsertedCount",
            "ModifiedCount", "DeletedCount", "Error"]
    return " ".join(f"{k}={json.dumps(record[k])}" for k in keys if k in record)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    py_path, py_db, c_path, c_db = sys.argv[1:]
    py, merged = merge_find_one(load(py_path, True))
    c = load(c_path, False)
    failures = []
    seen = [0] * len(KNOWN)

    print(f"pymongowatch: {len(py)} operations ({merged} find_one pair(s) merged: "
          f"its find_one and the find it runs); mongowatch: {len(c)} operations")
    if len(py) != len(c):
        failures.append("not the same number of operations:\n" + "\n".join(
            f"  {i:2} py: {line(p) if p else '-'}\n     c:  {line(q) if q else '-'}"
            for i, (p, q) in enumerate(
                zip(py + [None] * (len(c) - len(py)), c + [None] * (len(py) - len(c))))))

    # Misaligned, a field-by-field comparison would only repeat the
    # sequence above record after record.
    for i, (p, q) in enumerate(zip(py, c) if len(py) == len(c) else []):
        where = f"operation {i} ({q.get('Operation')})"
        for side, rec, python in (("pymongowatch", p, True), ("mongowatch", q, False)):
            for problem in plausible(rec, python):
                failures.append(f"{where}: {side}: {problem}")
        pv, cv = compared(p, py_db), compared(q, c_db)
        for field in sorted(set(pv) | set(cv)):
            a, b = pv.get(field, ABSENT), cv.get(field, ABSENT)
            if a is not ABSENT and b is not ABSENT and a == b:
                continue
            known = [k for k, (f, when, _, _) in enumerate(KNOWN)
                     if f == field and when(a, b, p, q)]
            if known:
                seen[known[0]] += 1
                continue
            show = lambda v: "(absent)" if v is ABSENT else json.dumps(v)
            failures.append(f"{where}: {field} differs\n"
                            f"    pymongowatch: {show(a)}\n    mongowatch:   {show(b)}\n"
                            f"    py record: {json.dumps(p)}\n    c record:  {json.dumps(q)}")

    print("\nKnown differences (field: times seen: reason):")
    for (field, _, reason, expected), n in zip(KNOWN, seen):
        print(f"  {field}: {n}: {reason}")
        if expected and n == 0 and len(py) == len(c):
            failures.append(f"known difference of {field} not seen, though the scenario "
                            f"shows it: one side changed (update KNOWN and the guide): {reason}")
    for name, reason in NOT_EXERCISED:
        print(f"  {name}: not exercised: {reason}")

    if failures:
        print(f"\n{len(failures)} unexplained difference(s):", file=sys.stderr)
        for f in failures:
            print(f"- {f}", file=sys.stderr)
        return 1
    print(f"\nsame: {len(c)} operations, field by field, up to the known differences above")
    return 0


if __name__ == "__main__":
    sys.exit(main())

/* The records of test-lazy-build.c's operations as the library wrote them
 * when it built every record on the application's thread (commit 82f42bc),
 * one line a record (see shape() there).  Made by running the suite
 * against that library with MWATCH_TEST_PRINT_SHAPES=1. */
/* clang-format off */
static const char golden_info_bare[] =
   "WatchID=* Iteration=4 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} State=\"final\" EndTime=* Duration=* MatchedCount=6\n"
   "WatchID=* Iteration=2 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={} State=\"final\" EndTime=* Duration=* MatchedCount=2\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"insert_one\" State=\"final\" InsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"update_one\" Filter={\"n\":500} Update={\"$set\":{\"y\":1}} State=\"final\" MatchedCount=0 ModifiedCount=0 UpsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"delete_many\" Filter={\"group\":1} State=\"final\" DeletedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"insert_one\" State=\"final\" InsertedCount=0 EndTime=* Error=\"E11000 duplicate key error collection: <db>.items\" Duration=*\n"
   "WatchID=* Iteration=2 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"aggregate\" Filter=[{\"$match\":{\"group\":2}},{\"$sort\":{\"n\":1}}] State=\"final\" EndTime=* Duration=* MatchedCount=2\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={\"n\":{\"$bogus\":1}} State=\"final\" EndTime=* Error=\"unknown operator: $bogus\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"watch\" Filter=[{\"$match\":{\"operationType\":\"insert\"}}] State=\"final\" EndTime=* Error=\"`aggregate` stage \\\"$changeStream\\\" is not implemented yet\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"count_documents\" Filter={\"group\":2} State=\"final\" MatchedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=4 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={} State=\"final\" Note=\"added\" EndTime=* Duration=* MatchedCount=6\n";
static const char golden_debug_bare[] =
   "WatchID=* Iteration=4 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} State=\"final\" Duration=* MatchedCount=6 EndTime=*\n"
   "WatchID=* Iteration=2 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={} State=\"final\" Duration=* MatchedCount=2 EndTime=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"insert_one\" State=\"final\" InsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"update_one\" Filter={\"n\":500} Update={\"$set\":{\"y\":1}} State=\"final\" MatchedCount=0 ModifiedCount=0 UpsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"delete_many\" Filter={\"group\":1} State=\"final\" DeletedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"insert_one\" State=\"final\" InsertedCount=0 EndTime=* Error=\"E11000 duplicate key error collection: <db>.items\" Duration=*\n"
   "WatchID=* Iteration=2 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"aggregate\" Filter=[{\"$match\":{\"group\":2}},{\"$sort\":{\"n\":1}}] State=\"final\" Duration=* MatchedCount=2 EndTime=*\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={\"n\":{\"$bogus\":1}} State=\"final\" EndTime=* Error=\"unknown operator: $bogus\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"watch\" Filter=[{\"$match\":{\"operationType\":\"insert\"}}] State=\"final\" EndTime=* Error=\"`aggregate` stage \\\"$changeStream\\\" is not implemented yet\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"count_documents\" Filter={\"group\":2} State=\"final\" MatchedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=4 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={} State=\"final\" Duration=* MatchedCount=6 Note=\"added\" EndTime=*\n";
static const char golden_info_context[] =
   "WatchID=* Iteration=4 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} EndTime=* Duration=* MatchedCount=6\n"
   "WatchID=* Iteration=2 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={} EndTime=* Duration=* MatchedCount=2\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"insert_one\" InsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"update_one\" Filter={\"n\":500} Update={\"$set\":{\"y\":1}} MatchedCount=0 ModifiedCount=0 UpsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"delete_many\" Filter={\"group\":1} DeletedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"insert_one\" InsertedCount=0 EndTime=* Error=\"E11000 duplicate key error collection: <db>.items\" Duration=*\n"
   "WatchID=* Iteration=2 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"aggregate\" Filter=[{\"$match\":{\"group\":2}},{\"$sort\":{\"n\":1}}] EndTime=* Duration=* MatchedCount=2\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={\"n\":{\"$bogus\":1}} EndTime=* Error=\"unknown operator: $bogus\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"watch\" Filter=[{\"$match\":{\"operationType\":\"insert\"}}] EndTime=* Error=\"`aggregate` stage \\\"$changeStream\\\" is not implemented yet\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"count_documents\" Filter={\"group\":2} MatchedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=4 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={} Note=\"added\" EndTime=* Duration=* MatchedCount=6\n";
static const char golden_debug_context[] =
   "WatchID=* Iteration=4 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} Duration=* MatchedCount=6 EndTime=*\n"
   "WatchID=* Iteration=2 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={} Duration=* MatchedCount=2 EndTime=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"insert_one\" InsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"update_one\" Filter={\"n\":500} Update={\"$set\":{\"y\":1}} MatchedCount=0 ModifiedCount=0 UpsertedCount=1 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"delete_many\" Filter={\"group\":1} DeletedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"insert_one\" InsertedCount=0 EndTime=* Error=\"E11000 duplicate key error collection: <db>.items\" Duration=*\n"
   "WatchID=* Iteration=2 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"aggregate\" Filter=[{\"$match\":{\"group\":2}},{\"$sort\":{\"n\":1}}] Duration=* MatchedCount=2 EndTime=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={\"n\":{\"$bogus\":1}} EndTime=* Error=\"unknown operator: $bogus\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"watch\" Filter=[{\"$match\":{\"operationType\":\"insert\"}}] EndTime=* Error=\"`aggregate` stage \\\"$changeStream\\\" is not implemented yet\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"count_documents\" Filter={\"group\":2} MatchedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=4 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Collection=\"items\" Operation=\"find\" Filter={} Duration=* MatchedCount=6 Note=\"added\" EndTime=*\n";
static const char golden_info_dressed[] =
   "WatchID=* Iteration=4 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} Service=\"orders\" EndTime=* Duration=* Read=6\n"
   "WatchID=* Iteration=2 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={} Service=\"orders\" EndTime=* Duration=* Read=2\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"insert_one\" Service=\"orders\" InsertedCount=1 Ended=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"update_one\" Filter={\"n\":500} Update={\"$set\":{\"y\":1}} Service=\"orders\" MatchedCount=0 ModifiedCount=0 Upserted=1 EndTime=* Took=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"delete_many\" Service=\"orders\" EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"insert_one\" Service=\"orders\" InsertedCount=0 Ended=* Failure=\"E11000 duplicate key error collection: <db>.items\" Duration=*\n"
   "WatchID=* Iteration=2 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"aggregate\" Pipeline=[{\"$match\":{\"group\":2}},{\"$sort\":{\"n\":1}}] Service=\"orders\" EndTime=* Duration=* MatchedCount=2\n"
   "WatchID=* Iteration=1 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={\"n\":{\"$bogus\":1}} Service=\"orders\" EndTime=* Error=\"unknown operator: $bogus\" Duration=* Read=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"watch\" Filter=[{\"$match\":{\"operationType\":\"insert\"}}] Service=\"orders\" EndTime=* Error=\"`aggregate` stage \\\"$changeStream\\\" is not implemented yet\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"count_documents\" Filter={\"group\":2} Service=\"orders\" MatchedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=4 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={} Service=\"orders\" Note=\"added\" EndTime=* Duration=* Read=6\n";
static const char golden_debug_dressed[] =
   "WatchID=* Iteration=4 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} Service=\"orders\" Duration=* Read=6 EndTime=*\n"
   "WatchID=* Iteration=2 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={} Service=\"orders\" Duration=* Read=2 EndTime=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"insert_one\" Service=\"orders\" InsertedCount=1 Ended=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"update_one\" Filter={\"n\":500} Update={\"$set\":{\"y\":1}} Service=\"orders\" MatchedCount=0 ModifiedCount=0 Upserted=1 EndTime=* Took=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"delete_many\" Service=\"orders\" EndTime=* Duration=*\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"insert_one\" Service=\"orders\" InsertedCount=0 Ended=* Failure=\"E11000 duplicate key error collection: <db>.items\" Duration=*\n"
   "WatchID=* Iteration=2 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"aggregate\" Pipeline=[{\"$match\":{\"group\":2}},{\"$sort\":{\"n\":1}}] Service=\"orders\" Duration=* MatchedCount=2 EndTime=*\n"
   "WatchID=* Iteration=1 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={\"n\":{\"$bogus\":1}} Service=\"orders\" EndTime=* Error=\"unknown operator: $bogus\" Duration=* Read=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"watch\" Filter=[{\"$match\":{\"operationType\":\"insert\"}}] Service=\"orders\" EndTime=* Error=\"`aggregate` stage \\\"$changeStream\\\" is not implemented yet\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=1 StartTime=* RequestID=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"count_documents\" Filter={\"group\":2} Service=\"orders\" MatchedCount=2 EndTime=* Duration=*\n"
   "WatchID=* Iteration=4 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={} Service=\"orders\" Duration=* Read=6 Note=\"added\" EndTime=*\n";
static const char golden_timeout_bare[] =
   "WatchID=* Iteration=2 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} State=\"timeout\" Duration=* MatchedCount=3\n"
   "WatchID=* Iteration=4 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} State=\"final\" EndTime=* Duration=* MatchedCount=6\n";
static const char golden_timeout_dressed[] =
   "WatchID=* Iteration=2 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"timeout\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} Service=\"orders\" Duration=* Read=3\n"
   "WatchID=* Iteration=4 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"final\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={\"name\":\"item\"} Service=\"orders\" Duration=* Read=6 EndTime=*\n";
static const char golden_exit_open_cursor[] =
   "WatchID=* Iteration=1 StartTime=* Req=\"r1\" DB=\"<db>\" State=\"timeout\" User=\"alice\" Table=\"items\" Operation=\"find\" Filter={} Service=\"orders\" Duration=* Read=1";
static const char golden_early_update_queue[] =
   "WatchID=* Iteration=9 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"final\" Duration=* MatchedCount=6 Service=\"orders\" EndTime=*\n";
static const char golden_early_update_side[] =
   "WatchID=* Iteration=1 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=0\n"
   "WatchID=* Iteration=0 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"first\" Duration=* MatchedCount=0 Service=\"orders\"\n"
   "WatchID=* Iteration=2 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=1 Service=\"orders\"\n"
   "WatchID=* Iteration=3 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=2 Service=\"orders\"\n"
   "WatchID=* Iteration=4 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=3 Service=\"orders\"\n"
   "WatchID=* Iteration=5 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=4 Service=\"orders\"\n"
   "WatchID=* Iteration=6 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=5 Service=\"orders\"\n"
   "WatchID=* Iteration=7 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=6 Service=\"orders\"\n"
   "WatchID=* Iteration=8 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"update\" Duration=* MatchedCount=6 Service=\"orders\"\n"
   "WatchID=* Iteration=9 StartTime=* DB=\"<db>\" Table=\"items\" Operation=\"find\" Filter={} State=\"final\" Duration=* MatchedCount=6 Service=\"orders\" EndTime=*\n";
static const char golden_lock_before_any_record[] =
   "WatchID=* Iteration=4 StartTime=* DB=\"<db>\" Collection=\"items\" Operation=\"find\" Filter={} Note=\"added\" EndTime=* State=\"final\" Duration=* MatchedCount=6";
/* clang-format on */

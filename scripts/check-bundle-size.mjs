#!/usr/bin/env node
// @ts-check
/**
 * Size check of what a browser app ships for syncline (`npm run check:size`, part of
 * `npm test`), bundled by esbuild from the packages' built dist/ (no tsconfig `paths`: as an
 * app installed from npm resolves them), minified, tree-shaken and
 * gzipped (bench/lib/browser-bundle.mjs): the app entry (sync-core + adapter-rest + react) and
 * the engine with its transport alone (sync-core + adapter-rest, issue 10's figure). Fails
 * above either budget, or when the push-request validators (the server's) reach the browser.
 * Run after `npm run build`. `node scripts/bundle-breakdown.mjs` shows what each module costs.
 *
 * The budgets are a ratchet on the way to the targets (docs/decisions.md, issues 10 and 13):
 * lower them when the bundle shrinks, never raise them without writing down why.
 */
import { APP_ENTRY, CORE_REST_ENTRY, measureBundle } from '../bench/lib/browser-bundle.mjs';

const CHECKS = [
  {
    name: 'sync-core + adapter-rest + react',
    entry: APP_ENTRY,
    /**
     * Budget of the min+gzip bundle, in bytes. Raised from 29.0 kB (29,696) to 29.6 kB in
     * session 9 for issue 10's split of the client into owned parts; lowered from 30,310 in
     * session 10 as the opt-in features' wiring left the client (docs/decisions.md), and by
     * 74 B more as a server answer is checked once, in the core, with the header pull-ahead
     * back (measured on the merge: 30,102 -> 30,028 B).
     * Then +36 B for `subscribe({ scopes, onPoke, onConnect })` and its setup check (issue 10),
     * and +77 B for the fix of a pulled page whose storage write fails (its checkpoint moves back
     * and the next page saves its records again; measured 30,099 -> 30,176 B).
     * Then +120 B for an initial sync in pages of the server's `maxPullLimit` (the
     * `initialPullPageSize` option, its check, the wait for `info()` before a pull from no
     * checkpoint; issue 10, session 11: a new client's 100,000 records in 10 requests instead
     * of 100, 30,173 -> 30,293 B).
     * Then +29 B for the pull check's `characters: false` (a pulled record's strings are checked
     * for length only; issue 10, session 11: 30,173 -> 30,202 B). Both, merged, with the pull
     * loop's resave fix and the push loop's dead flag removed: 30,301 B.
     * Then +25 B for the fix of a pull asked for as the scope's pull loop ends (it was lost:
     * `syncNow()` settled without pulling; the loop is now forgotten in the same step as its
     * last check): 30,326 B. Then 30,355 B with the push loop's `again` flag, put back (its removal let a
     * `run()` join a finished loop; docs/decisions.md).
     * Session 12 (issues 10 and 13, "the bundle, cut by duplicate"): -360 B, one checker of
     * written record data (write-input's second copy of the rules gone): 29,995 B. -108 B, one
     * hex writer for the HLC and the UUIDv7 id: 29,887 B.
     * -63 B, the exact UTF-8 count of a large record by TextEncoder: 29,824 B.
     * -79 B, the server's field readers (a list, an optional integer) out of the Fields class: 29,745 B.
     * -110 B, one deep JSON equality (the resolvers' copy goes): 29,635 B.
     * -25 B, one check of a plain protocol text (id, hlc, checkpoint, scope): 29,610 B.
     * -34 B, the status machine's own microtask flush (only tests used it): 29,576 B.
     * -25 B, one reader of a syncline error body (the 401 session_revoked test uses it): 29,551 B.
     * -100 B, one check of a push result (appliedResult, the fast path beside resultAt, goes): 29,451 B.
     * -20 B, SyncError options take undefined, so error builders pass fields as they are: 29,431 B.
     * -28 B, one call of applyLocalWrites in the write path: 29,403 B.
     * Then, merged with issue 12's asset work: +17 B for a per-request `fetch` in the REST
     * adapter's HTTP client (asset downloads over `node:http` on Node; the wrapper of the global
     * fetch went) and the uploads-by-id feature read from `info()`: 29,420 B.
     * Session 13 (issues 10 and 13, "the bundle, structural cuts"): -241 B, a follower tab's
     * session switch and write path are subclasses in the tabs entry: 29,179 B.
     * Until then the check read sync-core's sources (the repository's tsconfig `paths`), not its
     * dist/; measured from dist/, as an app installed from npm gets it, the bundle was 29,804 B:
     * the SHA-256 table, which an app that never hashes does not use, shipped from dist/. Marked
     * pure, and measured from dist/: 29,147 B.
     * -364 B, a browser build of sync-core without the in-memory storage fallback: 28,783 B.
     * -125 B, the browser build's environment (the browser's timers and crypto): 28,658 B.
     * Then, merged: +38 B for `info()` keeping its latest answer with the server's `features`, so
     * the asset part does not ask `GET /v1/info` a second time (issue 12), and +23 B for the
     * initial sync's per-record cuts (a pulled record filed in the store in one step, `Fields`
     * without a `hasOwn` call per key; issue 10): 28,748 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -61 B, the reconnect defaults read where used (DEFAULT_RECONNECT, definedOnly go): 28,687 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -17 B, a request's deadline reads its signals (no timedOut/callerAborted flags): 28,670 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -102 B, an asset chunk's body and fetch options made by the targeting entry: 28,568 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -23 B, the event-stream parser splits lines with one regex: 28,545 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -77 B, one builder of an error answer's SyncError, one read of its body: 28,468 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -28 B, the event stream keeps one cancel and one wake (no controller, timer fields): 28,440 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -108 B, the body-long signal link (untilEnd) only for asset requests: 28,332 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -34 B, restTransport's defaults read where used (DEFAULTS goes): 28,298 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -20 B, an event-stream line's field and value read by one regex: 28,278 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -16 B, the parser's two start-of-chunk flags are one 'skip' text: 28,262 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -13 B, the event stream calls the app's callbacks in one guard: 28,249 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * +9 B, the backoff starts over after a healthy stream that broke (a fix): 28,258 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -6 B, #connectOnce resolves when accepted (no always-true result): 28,252 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -270 B, the event stream checks a poke's plain part only (the client checks its page): 27,982 B.
     * Session 14 (bundleA, the client, its parts and react): -11 B, one filter of an event's
     * registrations in the emitter (off and a once listener's removal): 28,737 B.
     * -37 B, a follower tab's syncNow (run by the leader) lives in the tabs entry: 28,700 B.
     * -31 B, the status machine emits a snapshot a read committed early in its batch's flush (its
     * own microtask goes): 28,669 B.
     * -10 B, one status transition for a session change (signedIn and signedOut were the same
     * reset): 28,659 B.
     * -25 B, one frozen empty list for every React list hook's server render, and the sessions one
     * marked pure: 28,634 B.
     * -7 B, the client keeps its session switch's parts, which the engine and session targeting also
     * start from, instead of a field per part: 28,627 B.
     * -43 B, lww checks its granularity by comparison (no module-level Set), and a resolver's field
     * read asks for the own property descriptor once (the hasOwn check before it was the same test):
     * 28,584 B.
     * -5 B, the session switch's check for an engine before start, unreachable (session changes come
     * only from a started client), goes: 28,579 B.
     * -28 B, four messages in fewer words, same meaning and codes (an async schema, a failed local
     * save, a cycle, a hook outside the provider): 28,551 B.
     * -76 B, the change router looks each changed id up (its second path, over the listeners when a
     * batch had more ids, and its cleanup of a collection's empty id map go): 28,475 B.
     * -47 B, observeQuery keeps its array stable with the client lists' stableList (its own
     * sameRecords goes): 28,428 B.
     * -13 B, usePendingCount reads the count through observeClient (its own observer over the status
     * goes): 28,415 B.
     * -19 B, observeStatus is observeClient of client.status (its own status-event subscription
     * goes): 28,396 B.
     * -4 B, the status machine keeps its three counts as fields (the StatusCounts object goes):
     * 28,392 B.
     * -18 B, a change router subscription's second stop is told by Set.delete (its active flag and a
     * check of the map that always held the set go): 28,374 B.
     * -3 B, the write path hands the client's schedulePush to each write as is (its own closure over
     * it goes): 28,371 B.
     * -20 B, a claim callback's records are each record's oldest outbox entry (the set of seen keys
     * goes): 28,351 B.
     * -7 B, a transaction stages its records in a RecordIndex (no 'collection/id' key strings):
     * 28,344 B.
     * -6 B, the notifier's wantsChanges and the status machine's listening are required (their
     * defaults served only tests): 28,338 B.
     * -14 B, the notifier's and the status machine's flush are their private arrow fields (public
     * flush methods only a test called): 28,324 B.
     * -9 B, settlement builds a retried or resolved write in one literal (LocalWrite's data may be
     * undefined): 28,315 B.
     * -49 B, the resolvers read an absent field as undefined (no JSON value is), so the ABSENT
     * symbol and fieldEqual go: jsonEqual compares: 28,266 B.
     * -10 B, coalescing a patch into a put or a patch is one branch (the earlier operation, fields
     * merged): 28,256 B.
     * The two branches above merged (adapter-rest's and the client's cuts): 27,488 B.
     * +35 B, a pulled record's revision check, schema check and filing in one lookup
     * (`RecordStore.receive`; issue 10's initial sync, 14 % less of the client's own CPU): 27,523 B.
     * Session 14 (issues 10 and 13, bundleC, "the bundle, protocol, clock and replication"):
     * -143 B, the HLC checked by one regex and read by parseInt: 28,605 B.
     * -50 B, a data string's NUL or surrogate found by one regex (the short-string loop goes): 28,555 B.
     * -29 B, a plain protocol text checked by hasControl and hasLoneSurrogate (its loop goes): 28,526 B.
     * -14 B, two getters nothing read (IdbConnection.current, WriteLimits.maxRecordBytes): 28,512 B.
     * -23 B, the retryer's test-only members go (attempt, backoffMs); tests read recordFailure's wait: 28,489 B.
     * -42 B, the replicator's loops take its options spread, not copied key by key: 28,447 B.
     * -34 B, syncNow's wait reads the replicator and retryer, not a race object of closures: 28,413 B.
     * -10 B, the push loop's unreachable 'Push failed' wrapping goes: 28,403 B.
     * -10 B, push results: a null-equals-null test jsonEqual makes, and the server data, not done twice: 28,393 B.
     * -12 B, the HLC's receive rule as one 'largest counter at the new wall time, plus one': 28,381 B.
     * -12 B, a poke's page fields required in one loop: 28,369 B.
     * -25 B, resolveLimits reads the known keys in one loop (definedOnly goes): 28,344 B.
     * -14 B, a shorter 'no IndexedDB' setup message: 28,330 B.
     * -8 B, IndexedDbStorage.write is async (its try/Promise.reject goes): 28,322 B.
     * -6 B, Fields.optionalText is a function (the session validators' reader): 28,316 B.
     * -14 B, withTimeout settles through then/finally (its try/catch and two handlers go): 28,302 B.
     * -17 B, the HLC's restore sets its state through #set, the one writer (#format goes): 28,285 B.
     * -19 B, IndexedDB's count of write transactions is the in-flight set's size (#writing goes): 28,266 B.
     * -27 B, a rejection's code and message checked for length only, as a pulled record's strings: 28,239 B.
     * -10 B, plainPokeOf passes an absent originClientId as undefined: 28,229 B.
     * The four session 14 branches merged (the lines above each count from 28,748 B): 27,035 B.
     * -77 B, the client's validators take DEFAULT_LIMITS (resolveLimits' check stays out): 26,958 B.
     * -18 B, a query's comparator checks missing keys once (compareValues' copy goes): 26,940 B.
     * -19 B, a collection's query caches are one WeakMap (NO_WHERE keys the plain ones): 26,921 B.
     * -13 B, useCollection passes its query's absent fields as undefined (QueryOptions accepts them): 26,908 B.
     * -7 B, the pull loop's onUnplacedPokes is required (its default served no caller): 26,901 B.
     * -7 B, a pull's two reasons to reset first are one condition: 26,894 B.
     * -15 B, a record slot of no record and of a tombstone is one test (slotOf): 26,879 B.
     * -5 B, a page poke's checkpoints are compared without an 'undefined' test (they are defined): 26,874 B.
     * -11 B, a query's gathering loop stops at max before a record, not after (no early return): 26,863 B.
     * -58 B, the notifier and the status machine emit to the client's emitter: 26,805 B.
     * -77 B, one parts object for the session switch, write path, engine and tabs: 26,728 B.
     * -15 B, a schema check returns the schema's own success result: 26,713 B.
     * -38 B, one stable-list rule for query results and the client's lists: 26,675 B.
     * -30 B, a cycle in written data is reported through the validators' fail: 26,645 B.
     * -28 B, the change router's listeners in one map: 26,617 B.
     * -12 B, two write refusals in fewer words (same codes): 26,605 B.
     * -25 B, succeeded() and counts() leave 'nothing changed' to the batch: 26,580 B.
     * -33 B, put, patch and delete are transactions of one (no txId): 26,547 B.
     * -23 B, the session switch cancels its auth pause when it stops: 26,524 B.
     * -13 B, SyncError's fields are declared, set once by its constructor: 26,850 B.
     * -44 B, IndexedDB's connection is the storage's own (IdbConnection goes): 26,806 B.
     * -21 B, a malformed storage op is refused by one test and one message: 26,785 B.
     * -5 B, baseUrl checked once, by the HTTP client; its URL built in #send: 26,780 B.
     * -27 B, IndexedDB reads share one #read; its errors say read failed or write failed: 26,753 B.
     * -27 B, the no-route and not-syncline setup messages in fewer words: 26,726 B.
     * -12 B, a JSON member descends into an array or object itself (copyJson is its top-level call): 26,714 B.
     * -39 B, a lone surrogate found by its regex alone (the short-string loop was slower): 26,675 B.
     * -51 B, a UUIDv7's random part written byte by byte from the pool (word() goes): 26,624 B.
     * -13 B, the targeting entry keeps the latest info answer itself (restTransport's lastInfo goes): 26,611 B.
     * -10 B, a protocol integer's two messages are one (a non-number is not a safe integer): 26,601 B.
     * The two branches above merged (the client's side; storage, protocol, adapter-rest): 26,242 B.
     * S15 push side: -56 B, one settle path for a push answer and a whole refusal: 26,807 B.
     * S15 push side: -42 B, a conflict resolved in settleConflict (local computed once): 26,765 B.
     * S15 push side: -33 B, the key prefixes are one constant each (the KEYS object goes): 26,732 B.
     * S15 push side: -26 B, the outbox's test-only constructor entries go: 26,706 B.
     * S15 push side: -29 B, the retryer's reset is clear, backingOff read in ready: 26,677 B.
     * S15 push side: -19 B, push results raise the replicator's own revisions (no per-answer map): 26,658 B.
     * S15 push side: -16 B, startEngine builds the engine context itself: 26,642 B.
     * S15 push side: -11 B, dead letters and parked conflicts settle through one helper: 26,631 B.
     * S15 push side: -28 B, coalesce keeps the earlier mutation and sets op, hlc, data: 26,603 B.
     * S15 push side: -20 B, a resolver's rewrite keeps the local mutation's record and txId: 26,583 B.
     * S15 push side: -8 B, the replicator's one-use auth and unplaced-poke methods inline: 26,575 B.
     * S15 push side: +8 B, the split groups units by push (no copy per member): 26,583 B.
     * S15 push side: +34 B, coalesce's literal back (a spread then a write: ~3.4 us, not ~0.2): 26,617 B.
     * S15 push side: -1 B, a resolver's rewrite built whole (no write after a spread): 26,616 B.
     * S15 push side: -10 B, syncNow's wait without a done flag (a promise settles once): 26,606 B.
     * Merged with the push side and persistence (bundle15a): 25,990 B.
     * -55 B, the pull loop ends at a failed step, with no ok flag or loop object: 26,808 B.
     * -24 B, a page fetched ahead is matched by its request's fields (no key text): 26,784 B.
     * -4 B, a record reader keeps no limits field (none read it): 26,780 B.
     * -9 B, the pull-ahead learns the next checkpoint in #send (no #learn): 26,771 B.
     * -17 B, the pull loop keeps the last poke that reached a checkpoint as it is: 26,754 B.
     * -11 B, applyPulledPage takes resave as a boolean (no options object): 26,743 B.
     * -12 B, a pull is sent with its signal and onMore as arguments (no options object): 26,731 B.
     * -8 B, a pull page's resetRequired is read inline (Fields.optionalBoolean goes): 26,723 B.
     * -13 B, the pull loop's writes are one method (#writePages goes): 26,710 B.
     * Merged with the pull path (initsync15): 25,835 B.
     * +23 B, review: the pull loop says itself that it ended before its first await (its loop flag
     * back) instead of relying on callers queueing work first: 25,858 B.
     * +127 B, session 16: a record deleted and purged is not brought back by a first pull or a
     * replayed push answer (every first pull is a reset; the reset and push-answer rules on scope
     * versions, SyncTransport.revisions): 25,985 B.
     * +142 B, a new client's first-pull reset notes only the records push answers brought (no key
     * per pulled record: the initial sync kept its time): 26,127 B.
     * S17 bundleB: -138 B, HLC and UUIDv7 hex by toString(16), joined (pushHex goes): 25,989 B.
     * S17 bundleB: -43 B, a JSON path formatted by recursion, an identifier key bounded by its regex: 25,946 B.
     * S17 bundleB: -50 B, push answers checked in place, as pull pages (no result copies): 25,896 B.
     * S17 bundleB: -28 B, the device clock skips a malformed stored HLC by isHlc (no try/catch): 25,868 B.
     * S17 bundleB: -44 B, a record is always checked in place; validateSyncRecord copies first (copyJson): 25,824 B.
     * S17 bundleB: -27 B, the disk-full test (ENOSPC, EDQUOT) is the file storage's, not every storage error's: 25,797 B.
     * S17 bundleB: -14 B, a data string's NUL and lone surrogate found without the SUSPECT prefilter (slower, not faster): 25,783 B.
     * S17 bundleB: -15 B, an in-place JSON check writes back what differs by Object.is (one test, not two branches): 25,768 B.
     * S17 bundleC: -11 B, syncNow's wait is raced by withTimeout (no timer, listener of its own): 26,116 B.
     * S17 bundleC: -17 B, RecordIndex.values goes (the memory server reads its log): 26,099 B.
     * S17 bundleC: -64 B, a transaction's members found by a scan when met (no per-transaction index): 26,035 B.
     *   Reverted at the merge (+64 B): the scan made draining 10,000 queued entries in 5,000
     *   transactions about 4x slower (88 -> 363 ms CPU), quadratic in the outbox's length.
     *   Reverted at the merge: +64 B, the scan made draining 10,000 entries in transactions 4x slower (88 -> 363 ms CPU).
     * S17 bundleC: -6 B, a failed probe's error through asSyncError: 26,029 B.
     * S17 bundleC: -9 B, a session source compares sessions by optional reads: 26,020 B.
     * S17 bundleC: -8 B, a conflict's sibling test reads the server's revision and data once: 26,012 B.
     * S17 bundleC: -1 B, the outbox's load starts new tables (RecordIndex.clear goes): 26,011 B.
     * S17 bundleC: -73 B, an own poke is decided after the push run (no deferred-poke map, onPushed, busy): 25,938 B.
     * S17 bundleC: -12 B, the retryer hands onRetry a SyncError and the attempt (no wrapper): 25,926 B.
     * S17 bundleC: -50 B, a refused batch's entries go back and leave one unit per request (no split): 25,876 B.
     * S17 bundleC: -11 B, syncNow's last push runs unasked (a run with nothing to send ends at once); Infinity: 25,865 B.
     * S17 bundleC: -9 B, the push loop's batch option is named pushBatchSize, as the replicator's: 25,856 B.
     * S17 bundleA: -47 B, the targeting entry wraps subscribe to feed its hub
     * (restTransport passes the client's subscribe options through): 26,080 B.
     * S17 bundleA: -76 B, one HttpClient.send(request, read) under json and open; exchange
     * moves to the resource API and the asset requests' own fields (okStatuses, init,
     * linkBody) to the targeting entry: 26,004 B.
     * S17 bundleA: -1 B, a fix: the event stream cancels a refused answer's body without
     * waiting (a connection attempt hung for good on an events answer that is not an event
     * stream): 26,003 B.
     * S17 bundleA: -8 B, an events answer that is not an event stream is reported with the
     * one not-a-syncline-answer error (misconfigured, not_syncline): 25,995 B.
     * S17 bundleA: -5 B, the two no-route codes compared where they are read (no module-
     * level Set): 25,990 B.
     * S17 bundleA: -9 B, the event stream's read loop ends on end, idle or stop alike and
     * throws the idle timeout once, after it: 25,981 B.
     * S17 bundleA: -14 B, restTransport hands its options to the HTTP client as they are
     * (baseUrl, getToken, fetch read there): 25,967 B.
     * S17 bundleA: -18 B, the event stream reads restTransport's options as they are
     * (onRealtimeError, reconnect, idleTimeoutMs and its default read where used): 25,949
     * B.
     * S17 bundleA: -12 B, the poll mode reads pollIntervalMs from restTransport's options
     * as they are: 25,937 B.
     * S17 bundleA: -9 B, an HTTP request's classification reads the caller's signal from
     * the request (the deadline keeps no copy): 25,928 B.
     * S17 bundleA: -7 B, the event stream resets its backoff where a connection resolved
     * (accepted), without an opened flag: 25,921 B.
     * Merged (bundleA, bundleB, bundleC of session 17; the outbox keeps its transaction index): 25,326 B.
     * S17 bundleD: -38 B, a query's keys of different types sort by type name (TYPE_RANK goes): 26,089 B.
     * S17 bundleD: -42 B, a query's cache key is the JSON of its orderBy and limit (~0.1 us more a query() call): 26,047 B.
     * S17 bundleD: -39 B, a schema issue's path is written by the data checks' formatPath ($.title, $.tags[0]): 26,008 B.
     * S17 bundleD: -4 B, a settlement commits its removal alone or with the write it queues, in settle: 26,004 B.
     * S17 bundleD: -44 B, the collection guard reads the declarations object as the engine does (its Map copy goes): 25,960 B.
     * S17 bundleD: -12 B, the client reads session targeting and its environment from its parts (two fields kept twice go): 25,948 B.
     * S17 bundleD: -26 B, the session switch hands the started engine on as it is (replicator, targeting's sign-in): 25,922 B.
     * S17 bundleD: -10 B, syncNow gets the client's parts spread (their env and running): 25,912 B.
     * S17 bundleD: -7 B, two setup messages in fewer words (same kinds and codes): 25,905 B.
     * S17 bundleD: -13 B, a schema issue's path is mapped segment by segment (keyOf; pathOf's loop goes): 25,892 B.
     * S17 bundleD: -10 B, a claim is asked only of a callback policy ('auto' claims, anything else does not): 25,882 B.
     * S17 bundleD: -9 B, react: useCollection reads orderBy's field and direction in one step: 25,873 B.
     * S17 bundleD: -6 B, a query with limit 0 goes through firstInOrder like any limit (its special case goes): 25,867 B.
     * S17 bundleD: -10 B, a write's outbox entries persisted once through a Set of them: 25,857 B.
     * Merged with bundleD of session 17 (the client's side) and upload17 (no browser change): 25,057 B.
     * S17 bundleA2: -17 B, the event stream ends its connection or its wait through one interrupt: 25,040 B.
     * S17 bundleA2: -5 B, an events answer's content type tested by one case-insensitive regex: 25,035 B.
     * S17 bundleA2: -4 B, the not-a-syncline-answer message reads a missing response through optional chaining: 25,031 B.
     * S17 bundleA2: -3 B, the request deadline aborts without a reason of its own (none is read): 25,028 B.
     * S17 bundleA2: -3 B, the HTTP client reads its timeoutMs default where used (its three callers pass the option as is): 25,025 B.
     * S17 bundleA2: -4 B, the event stream's stop interrupts again when called twice (no guard): 25,021 B.
     * S17 bundleA2: -6 B, the poll mode's timer is always set when it stops (its null guard goes): 25,015 B.
     * S17 bundleA2: -1 B, the event stream's idle timer is armed when the read starts (its null guards go): 25,014 B.
     * S17 bundleA2: -7 B, checkBaseUrl leaves protocol unset for a value that is not a URL (one assignment): 25,007 B.
     * S17 bundleD2: -11 B, the client in fewer words: the probe bound, the status read once, a shorter targeting message: 25,046 B.
     * S17 bundleD2: -33 B, two status snapshots compared key by key (sameStatus; ~0.1 us more per status commit or flush, not per write): 25,013 B.
     * S17 bundleD2: -14 B, a schema refusal's message written in schemaError (describeIssues, its one caller's helper, goes): 24,999 B.
     * S17 bundleD2: -27 B, a query's rows always go through firstInOrder (the unlimited sort's own branch goes; CPU equal in a 100- and 10,000-row micro-run): 24,972 B.
     * Round 2 merged (adapter-rest and the client's side; the other two rounds' 50 B were left unmerged): 24,930 B.
     * S18 audit10: +11 B, reads (`get`, `query`, `recordStatus`) refuse an undeclared collection as writes do (issue 10 point 7; a typo read as empty): 24,941 B.
     * S18 audit10: +2 B, `restTransport()` without options is the `bad_base_url` SyncError, not a bare TypeError (issue 10 point 7): 24,943 B.
     * S18 audit10: +20 B, a write that syncs ends in one `synced` event: lastSyncedAt moves with the push answer's counts, and not again on the echo of our own push (issue 10 point 7): 24,963 B.
     * S18 audit10: +29 B, a 413 that is not a syncline answer says "a proxy refuses a body this large", not "baseUrl points at another server" (issue 10 point 1: the error says what to fix): 24,992 B.
     * S18 kinds: +36 B, `client.on('delivery', listener, { kind })`: delivery listeners live in session targeting, by kind, so a delivery nobody listens for is not acknowledged unseen (issue 12 audit): 25,028 B.
     * S18 audit13: +1 B, a dead letter's retry and a conflict's resolution are size-checked as a `put` is (one helper for the three): refused with `too_large` and kept listed, not sent to be rejected again (issue 13 audit): 25,029 B.
     * Session 19 (issue 10, "the bundle", nine helper passes; each cut, its bytes and what was
     * refused are in docs/decisions.md, "Issue 10, session 19"):
     * S19 sizeA, the client's side: -120 B on its branch (24,909 B); sizeB, persistence: -66 B;
     * sizeD, protocol, clock and store: -49 B; with the fix of a conflict answer whose hlc is not
     * an HLC (+4 B), merged: 24,802 B.
     * S19 sizeC, replication: merged 24,695 B. sizeG, across areas: 24,676 B.
     * S19 sizeF, tabs and targeting wiring (the outbox's tabs hook, the delivery inbox and the
     * client's tab calls move to the tabs and targeting entries): merged 24,589 B.
     * S19 sizeE, adapter-rest, errors, ids, conflict, text, env: merged 24,392 B.
     * S19 second round (sizeH1-H4; the push loop forgets itself in its finally, the #again pass
     * goes): 24,239 B.
     * Session 20 (issue 13, four helper passes; each cut in docs/decisions.md, "Issue 13, session
     * 20"): the client's side and react (one stable-list reader, react's dist with one `react`
     * import) -119 B on its branch; persistence -65 B; adapter-rest -89 B; replication -89 B;
     * merged with two fixes (a failed local save carries the storage's code, +6 B; a conflict
     * resolution's data checked against the collection's schema, +3 B): 23,889 B.
     * Session 20, second round (persistence and clock -29 B, replication -23 B, the client's side
     * -54 B on their branches): 23,813 B.
     * Session 21 (issue 13, a third round of six passes; each cut in docs/decisions.md, "Issue 13,
     * session 21"): the client's side -73 B, adapter-rest -97 B, protocol answer checks -34 B
     * (one cut, +9 B, taken back at the merge for the reader), write path, clock and react
     * -109 B, persistence -103 B, replication -48 B, on their branches: 23,385 B.
     * Then +16 B at the review: a settlement takes how it saves as one optional function, so
     * discarding a dead letter no longer takes a write function it never used: 23,401 B.
     */
    budgetBytes: 23_401,
    /** Where issue 13 wants it. */
    targetBytes: 15 * 1024,
  },
  {
    name: 'sync-core + adapter-rest',
    entry: CORE_REST_ENTRY,
    /**
     * Raised from 27.8 kB (28,467) with the one above in session 9; lowered from 29,100 with it
     * in session 10, and by 63 B more for the one check in the core with the header pull-ahead
     * (measured on the merge: 28,910 -> 28,847 B).
     * Then +35 B for the `subscribe` options object, and +73 B for the failed-page fix
     * (28,922 -> 28,995 B).
     * Then +114 B for the initial sync's larger pages (see above; 28,984 -> 29,098 B).
     * Then +27 B for the pull check's `characters: false` (28,984 -> 29,011 B). Both, merged:
     * 29,104 B. Then +28 B for the lost-pull fix above: 29,132 B. Then the push loop's `again`
     * flag, put back (see above): 29,160 B.
     * Session 12: -355 B, one checker of written record data (see above): 28,805 B. -109 B, one
     * hex writer: 28,696 B.
     * -73 B, the exact UTF-8 count of a large record by TextEncoder: 28,623 B.
     * -76 B, the server's field readers (a list, an optional integer) out of the Fields class: 28,547 B.
     * -125 B, one deep JSON equality (the resolvers' copy goes): 28,422 B.
     * -18 B, one check of a plain protocol text (id, hlc, checkpoint, scope): 28,404 B.
     * -31 B, the status machine's own microtask flush (only tests used it): 28,373 B.
     * -27 B, one reader of a syncline error body (the 401 session_revoked test uses it): 28,346 B.
     * -97 B, one check of a push result (appliedResult, the fast path beside resultAt, goes): 28,249 B.
     * -20 B, SyncError options take undefined, so error builders pass fields as they are: 28,229 B.
     * -35 B, one call of applyLocalWrites in the write path: 28,194 B.
     * Then +28 B merged with issue 12's asset work (see above): 28,222 B.
     * Session 13: -227 B, a follower tab's session switch and write path in the tabs entry: 27,995 B.
     * Measured from dist/ (see above): 28,618 B; with the SHA-256 table marked pure: 27,959 B.
     * -385 B, a browser build of sync-core without the in-memory storage fallback: 27,574 B.
     * -124 B, the browser build's environment (the browser's timers and crypto): 27,450 B.
     * Then, merged: +57 B for `info()` keeping its latest answer (one `GET /v1/info`, see above)
     * and +28 B for the initial sync's per-record cuts (see above): 27,550 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -67 B, the reconnect defaults read where used (DEFAULT_RECONNECT, definedOnly go): 27,483 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -20 B, a request's deadline reads its signals (no timedOut/callerAborted flags): 27,463 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -96 B, an asset chunk's body and fetch options made by the targeting entry: 27,367 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -20 B, the event-stream parser splits lines with one regex: 27,347 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -67 B, one builder of an error answer's SyncError, one read of its body: 27,280 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -28 B, the event stream keeps one cancel and one wake (no controller, timer fields): 27,252 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -119 B, the body-long signal link (untilEnd) only for asset requests: 27,133 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -50 B, restTransport's defaults read where used (DEFAULTS goes): 27,083 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -22 B, an event-stream line's field and value read by one regex: 27,061 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -15 B, the parser's two start-of-chunk flags are one 'skip' text: 27,046 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -12 B, the event stream calls the app's callbacks in one guard: 27,034 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * +8 B, the backoff starts over after a healthy stream that broke (a fix): 27,042 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -4 B, #connectOnce resolves when accepted (no always-true result): 27,038 B.
     * Session 14 (issues 10 and 13, "the bundle, adapter-rest"):
     * -257 B, the event stream checks a poke's plain part only (the client checks its page): 26,781 B.
     * Session 14 (bundleA, the client, its parts and react): -11 B, one filter of an event's
     * registrations in the emitter (off and a once listener's removal): 27,539 B.
     * -38 B, a follower tab's syncNow (run by the leader) lives in the tabs entry: 27,501 B.
     * -35 B, the status machine emits a snapshot a read committed early in its batch's flush (its
     * own microtask goes): 27,466 B.
     * -14 B, one status transition for a session change (signedIn and signedOut were the same
     * reset): 27,452 B.
     * -15 B, the client keeps its session switch's parts, which the engine and session targeting
     * also start from, instead of a field per part: 27,437 B.
     * -41 B, lww checks its granularity by comparison (no module-level Set), and a resolver's field
     * read asks for the own property descriptor once (the hasOwn check before it was the same test):
     * 27,396 B.
     * -3 B, the session switch's check for an engine before start, unreachable (session changes come
     * only from a started client), goes: 27,393 B.
     * -19 B, four messages in fewer words, same meaning and codes (an async schema, a failed local
     * save, a cycle, a hook outside the provider): 27,374 B.
     * -8 B, the status machine keeps its three counts as fields (the StatusCounts object goes):
     * 27,366 B.
     * -3 B, the write path hands the client's schedulePush to each write as is (its own closure over
     * it goes): 27,363 B.
     * -21 B, a claim callback's records are each record's oldest outbox entry (the set of seen keys
     * goes): 27,342 B.
     * -4 B, a transaction stages its records in a RecordIndex (no 'collection/id' key strings):
     * 27,338 B.
     * -6 B, the notifier's wantsChanges and the status machine's listening are required (their
     * defaults served only tests): 27,332 B.
     * -15 B, the notifier's and the status machine's flush are their private arrow fields (public
     * flush methods only a test called): 27,317 B.
     * -11 B, settlement builds a retried or resolved write in one literal (LocalWrite's data may be
     * undefined): 27,306 B.
     * -37 B, the resolvers read an absent field as undefined (no JSON value is), so the ABSENT
     * symbol and fieldEqual go: jsonEqual compares: 27,269 B.
     * -7 B, coalescing a patch into a put or a patch is one branch (the earlier operation, fields
     * merged): 27,262 B.
     * The two branches above merged (adapter-rest's and the client's cuts): 26,474 B.
     * +39 B, a pulled record checked and filed in one lookup (see above): 26,513 B.
     * Session 14 (issues 10 and 13, bundleC, "the bundle, protocol, clock and replication"):
     * -147 B, the HLC checked by one regex and read by parseInt: 27,403 B.
     * -49 B, a data string's NUL or surrogate found by one regex (the short-string loop goes): 27,354 B.
     * -24 B, a plain protocol text checked by hasControl and hasLoneSurrogate (its loop goes): 27,330 B.
     * -14 B, two getters nothing read (IdbConnection.current, WriteLimits.maxRecordBytes): 27,316 B.
     * -22 B, the retryer's test-only members go (attempt, backoffMs); tests read recordFailure's wait: 27,294 B.
     * -43 B, the replicator's loops take its options spread, not copied key by key: 27,251 B.
     * -37 B, syncNow's wait reads the replicator and retryer, not a race object of closures: 27,214 B.
     * -8 B, the push loop's unreachable 'Push failed' wrapping goes: 27,206 B.
     * -11 B, push results: a null-equals-null test jsonEqual makes, and the server data, not done twice: 27,195 B.
     * -14 B, the HLC's receive rule as one 'largest counter at the new wall time, plus one': 27,181 B.
     * -14 B, a poke's page fields required in one loop: 27,167 B.
     * -17 B, resolveLimits reads the known keys in one loop (definedOnly goes): 27,150 B.
     * -12 B, a shorter 'no IndexedDB' setup message: 27,138 B.
     * -11 B, IndexedDbStorage.write is async (its try/Promise.reject goes): 27,127 B.
     * -7 B, Fields.optionalText is a function (the session validators' reader): 27,120 B.
     * -15 B, withTimeout settles through then/finally (its try/catch and two handlers go): 27,105 B.
     * -15 B, the HLC's restore sets its state through #set, the one writer (#format goes): 27,090 B.
     * -21 B, IndexedDB's count of write transactions is the in-flight set's size (#writing goes): 27,069 B.
     * -23 B, a rejection's code and message checked for length only, as a pulled record's strings: 27,046 B.
     * -9 B, plainPokeOf passes an absent originClientId as undefined: 27,037 B.
     * The four session 14 branches merged (the lines above each count from 27,550 B): 26,032 B.
     * -75 B, the client's validators take DEFAULT_LIMITS (resolveLimits' check stays out): 25,957 B.
     * -20 B, a query's comparator checks missing keys once (compareValues' copy goes): 25,937 B.
     * -9 B, a collection's query caches are one WeakMap (NO_WHERE keys the plain ones): 25,928 B.
     * -7 B, the pull loop's onUnplacedPokes is required (its default served no caller): 25,921 B.
     * -4 B, a pull's two reasons to reset first are one condition: 25,917 B.
     * -14 B, a record slot of no record and of a tombstone is one test (slotOf): 25,903 B.
     * -5 B, a page poke's checkpoints are compared without an 'undefined' test (they are defined): 25,898 B.
     * -10 B, a query's gathering loop stops at max before a record, not after (no early return): 25,888 B.
     * -65 B, the notifier and the status machine emit to the client's emitter: 25,823 B.
     * -81 B, one parts object for the session switch, write path, engine and tabs: 25,742 B.
     * -16 B, a schema check returns the schema's own success result: 25,726 B.
     * -52 B, one stable-list rule for query results and the client's lists: 25,674 B.
     * -23 B, a cycle in written data is reported through the validators' fail: 25,651 B.
     * -12 B, two write refusals in fewer words (same codes): 25,639 B.
     * -25 B, succeeded() and counts() leave 'nothing changed' to the batch: 25,614 B.
     * -32 B, put, patch and delete are transactions of one (no txId): 25,582 B.
     * -26 B, the session switch cancels its auth pause when it stops: 25,556 B.
     * -13 B, SyncError's fields are declared, set once by its constructor: 25,875 B.
     * -51 B, IndexedDB's connection is the storage's own (IdbConnection goes): 25,824 B.
     * -21 B, a malformed storage op is refused by one test and one message: 25,803 B.
     * -4 B, baseUrl checked once, by the HTTP client; its URL built in #send: 25,799 B.
     * -27 B, IndexedDB reads share one #read; its errors say read failed or write failed: 25,772 B.
     * -27 B, the no-route and not-syncline setup messages in fewer words: 25,745 B.
     * -25 B, a JSON member descends into an array or object itself (copyJson is its top-level call): 25,720 B.
     * -38 B, a lone surrogate found by its regex alone (the short-string loop was slower): 25,682 B.
     * -42 B, a UUIDv7's random part written byte by byte from the pool (word() goes): 25,640 B.
     * -9 B, the targeting entry keeps the latest info answer itself (restTransport's lastInfo goes): 25,631 B.
     * -11 B, a protocol integer's two messages are one (a non-number is not a safe integer): 25,620 B.
     * The two branches above merged (the client's side; storage, protocol, adapter-rest): 25,287 B.
     * S15 push side: -64 B, one settle path for a push answer and a whole refusal: 25,824 B.
     * S15 push side: -38 B, a conflict resolved in settleConflict (local computed once): 25,786 B.
     * S15 push side: -38 B, the key prefixes are one constant each (the KEYS object goes): 25,748 B.
     * S15 push side: -28 B, the outbox's test-only constructor entries go: 25,720 B.
     * S15 push side: -28 B, the retryer's reset is clear, backingOff read in ready: 25,692 B.
     * S15 push side: -17 B, push results raise the replicator's own revisions (no per-answer map): 25,675 B.
     * S15 push side: -20 B, startEngine builds the engine context itself: 25,655 B.
     * S15 push side: -28 B, dead letters and parked conflicts settle through one helper: 25,627 B.
     * S15 push side: -28 B, coalesce keeps the earlier mutation and sets op, hlc, data: 25,599 B.
     * S15 push side: -10 B, a resolver's rewrite keeps the local mutation's record and txId: 25,589 B.
     * S15 push side: -8 B, the replicator's one-use auth and unplaced-poke methods inline: 25,581 B.
     * S15 push side: +9 B, the split groups units by push (no copy per member): 25,590 B.
     * S15 push side: +31 B, coalesce's literal back (a spread then a write: ~3.4 us, not ~0.2): 25,621 B.
     * S15 push side: -2 B, a resolver's rewrite built whole (no write after a spread): 25,619 B.
     * S15 push side: -12 B, syncNow's wait without a done flag (a promise settles once): 25,607 B.
     * Merged with the push side and persistence (bundle15a): 25,018 B.
     * -59 B, the pull loop ends at a failed step, with no ok flag or loop object: 25,829 B.
     * -19 B, a page fetched ahead is matched by its request's fields (no key text): 25,810 B.
     * -5 B, a record reader keeps no limits field (none read it): 25,805 B.
     * -9 B, the pull-ahead learns the next checkpoint in #send (no #learn): 25,796 B.
     * -20 B, the pull loop keeps the last poke that reached a checkpoint as it is: 25,776 B.
     * -8 B, applyPulledPage takes resave as a boolean (no options object): 25,768 B.
     * -11 B, a pull is sent with its signal and onMore as arguments (no options object): 25,757 B.
     * -10 B, a pull page's resetRequired is read inline (Fields.optionalBoolean goes): 25,747 B.
     * -8 B, the pull loop's writes are one method (#writePages goes): 25,739 B.
     * Merged with the pull path (initsync15): 24,864 B.
     * +22 B, review: the pull loop says itself that it ended before its first await (its loop flag
     * back) instead of relying on callers queueing work first: 24,886 B.
     * +135 B, session 16: a record deleted and purged is not brought back by a first pull or a
     * replayed push answer (every first pull is a reset; the reset and push-answer rules on scope
     * versions, SyncTransport.revisions): 25,021 B.
     * +140 B, a new client's first-pull reset notes only the records push answers brought (no key
     * per pulled record: the initial sync kept its time): 25,161 B.
     * S17 bundleB: -152 B, HLC and UUIDv7 hex by toString(16), joined (pushHex goes): 25,009 B.
     * S17 bundleB: -46 B, a JSON path formatted by recursion, an identifier key bounded by its regex: 24,963 B.
     * S17 bundleB: -51 B, push answers checked in place, as pull pages (no result copies): 24,912 B.
     * S17 bundleB: -16 B, the device clock skips a malformed stored HLC by isHlc (no try/catch): 24,896 B.
     * S17 bundleB: -47 B, a record is always checked in place; validateSyncRecord copies first (copyJson): 24,849 B.
     * S17 bundleB: -29 B, the disk-full test (ENOSPC, EDQUOT) is the file storage's, not every storage error's: 24,820 B.
     * S17 bundleB: -19 B, a data string's NUL and lone surrogate found without the SUSPECT prefilter (slower, not faster): 24,801 B.
     * S17 bundleB: -17 B, an in-place JSON check writes back what differs by Object.is (one test, not two branches): 24,784 B.
     * S17 bundleC: -13 B, syncNow's wait is raced by withTimeout (no timer, listener of its own): 25,148 B.
     * S17 bundleC: -16 B, RecordIndex.values goes (the memory server reads its log): 25,132 B.
     * S17 bundleC: -62 B, a transaction's members found by a scan when met (no per-transaction index): 25,070 B.
     *   Reverted at the merge (+62 B): quadratic drain of an outbox of transactions (above).
     * S17 bundleC: -7 B, a failed probe's error through asSyncError: 25,063 B.
     * S17 bundleC: -7 B, a session source compares sessions by optional reads: 25,056 B.
     * S17 bundleC: -13 B, a conflict's sibling test reads the server's revision and data once: 25,043 B.
     * S17 bundleC: -8 B, the outbox's load starts new tables (RecordIndex.clear goes): 25,035 B.
     * S17 bundleC: -78 B, an own poke is decided after the push run (no deferred-poke map, onPushed, busy): 24,957 B.
     * S17 bundleC: -9 B, the retryer hands onRetry a SyncError and the attempt (no wrapper): 24,948 B.
     * S17 bundleC: -41 B, a refused batch's entries go back and leave one unit per request (no split): 24,907 B.
     * S17 bundleC: -13 B, syncNow's last push runs unasked (a run with nothing to send ends at once); Infinity: 24,894 B.
     * S17 bundleC: -11 B, the push loop's batch option is named pushBatchSize, as the replicator's: 24,883 B.
     * S17 bundleA: -45 B, the targeting entry wraps subscribe to feed its hub
     * (restTransport passes the client's subscribe options through): 25,116 B.
     * S17 bundleA: -68 B, one HttpClient.send(request, read) under json and open; exchange
     * moves to the resource API and the asset requests' own fields (okStatuses, init,
     * linkBody) to the targeting entry: 25,048 B.
     * S17 bundleA: -2 B, a fix: the event stream cancels a refused answer's body without
     * waiting (a connection attempt hung for good on an events answer that is not an event
     * stream): 25,046 B.
     * S17 bundleA: -18 B, an events answer that is not an event stream is reported with the
     * one not-a-syncline-answer error (misconfigured, not_syncline): 25,028 B.
     * S17 bundleA: -5 B, the two no-route codes compared where they are read (no module-
     * level Set): 25,023 B.
     * S17 bundleA: -8 B, the event stream's read loop ends on end, idle or stop alike and
     * throws the idle timeout once, after it: 25,015 B.
     * S17 bundleA: -14 B, restTransport hands its options to the HTTP client as they are
     * (baseUrl, getToken, fetch read there): 25,001 B.
     * S17 bundleA: -18 B, the event stream reads restTransport's options as they are
     * (onRealtimeError, reconnect, idleTimeoutMs and its default read where used): 24,983
     * B.
     * S17 bundleA: -13 B, the poll mode reads pollIntervalMs from restTransport's options
     * as they are: 24,970 B.
     * S17 bundleA: -10 B, an HTTP request's classification reads the caller's signal from
     * the request (the deadline keeps no copy): 24,960 B.
     * S17 bundleA: -10 B, the event stream resets its backoff where a connection resolved
     * (accepted), without an opened flag: 24,950 B.
     * Merged (bundleA, bundleB, bundleC of session 17; the outbox keeps its transaction index): 24,370 B.
     * S17 bundleD: -37 B, a query's keys of different types sort by type name (TYPE_RANK goes): 25,124 B.
     * S17 bundleD: -42 B, a query's cache key is the JSON of its orderBy and limit (~0.1 us more a query() call): 25,082 B.
     * S17 bundleD: -27 B, a schema issue's path is written by the data checks' formatPath ($.title, $.tags[0]): 25,055 B.
     * S17 bundleD: -7 B, a settlement commits its removal alone or with the write it queues, in settle: 25,048 B.
     * S17 bundleD: -43 B, the collection guard reads the declarations object as the engine does (its Map copy goes): 25,005 B.
     * S17 bundleD: -14 B, the client reads session targeting and its environment from its parts (two fields kept twice go): 24,991 B.
     * S17 bundleD: -27 B, the session switch hands the started engine on as it is (replicator, targeting's sign-in): 24,964 B.
     * S17 bundleD: -7 B, syncNow gets the client's parts spread (their env and running): 24,957 B.
     * S17 bundleD: -8 B, two setup messages in fewer words (same kinds and codes): 24,949 B.
     * S17 bundleD: -14 B, a schema issue's path is mapped segment by segment (keyOf; pathOf's loop goes): 24,935 B.
     * S17 bundleD: -12 B, a claim is asked only of a callback policy ('auto' claims, anything else does not): 24,923 B.
     * S17 bundleD: -5 B, a query with limit 0 goes through firstInOrder like any limit (its special case goes): 24,918 B.
     * S17 bundleD: -8 B, a write's outbox entries persisted once through a Set of them: 24,910 B.
     * Merged with bundleD of session 17 (the client's side) and upload17 (no browser change): 24,082 B.
     * S17 bundleA2: -12 B, the event stream ends its connection or its wait through one interrupt: 24,070 B.
     * S17 bundleA2: -7 B, an events answer's content type tested by one case-insensitive regex: 24,063 B.
     * S17 bundleA2: -2 B, the not-a-syncline-answer message reads a missing response through optional chaining: 24,061 B.
     * S17 bundleA2: -6 B, the request deadline aborts without a reason of its own (none is read): 24,055 B.
     * S17 bundleA2: -3 B, the HTTP client reads its timeoutMs default where used (its three callers pass the option as is): 24,052 B.
     * S17 bundleA2: -2 B, the event stream's stop interrupts again when called twice (no guard): 24,050 B.
     * S17 bundleA2: -7 B, the poll mode's timer is always set when it stops (its null guard goes): 24,043 B.
     * S17 bundleA2: -1 B, the event stream's idle timer is armed when the read starts (its null guards go): 24,042 B.
     * S17 bundleA2: -4 B, checkBaseUrl leaves protocol unset for a value that is not a URL (one assignment): 24,038 B.
     * S17 bundleD2: -12 B, the client in fewer words: the probe bound, the status read once, a shorter targeting message: 24,070 B.
     * S17 bundleD2: -36 B, two status snapshots compared key by key (sameStatus; ~0.1 us more per status commit or flush, not per write): 24,034 B.
     * S17 bundleD2: -13 B, a schema refusal's message written in schemaError (describeIssues, its one caller's helper, goes): 24,021 B.
     * S17 bundleD2: -34 B, a query's rows always go through firstInOrder (the unlimited sort's own branch goes; CPU equal in a 100- and 10,000-row micro-run): 23,987 B.
     * Round 2 merged (adapter-rest and the client's side; the other two rounds' 50 B were left unmerged): 23,945 B.
     * S18 audit10: +12 B, reads (`get`, `query`, `recordStatus`) refuse an undeclared collection as writes do (issue 10 point 7; a typo read as empty): 23,957 B.
     * S18 audit10: +2 B, `restTransport()` without options is the `bad_base_url` SyncError, not a bare TypeError (issue 10 point 7): 23,959 B.
     * S18 audit10: +22 B, a write that syncs ends in one `synced` event: lastSyncedAt moves with the push answer's counts, and not again on the echo of our own push (issue 10 point 7): 23,981 B.
     * S18 audit10: +36 B, a 413 that is not a syncline answer says "a proxy refuses a body this large", not "baseUrl points at another server" (issue 10 point 1: the error says what to fix): 24,017 B.
     * S18 merge of audit10 and auditC: +2 B, gzip's shift where the two branches' changes meet (auditC alone measured 23,945 B, unchanged; its code is in the targeting entry): 24,019 B.
     * S18 kinds: +39 B, `client.on('delivery', listener, { kind })`: delivery listeners live in session targeting, by kind, so a delivery nobody listens for is not acknowledged unseen (issue 12 audit): 24,056 B.
     * S18 audit13: +1 B, a dead letter's retry and a conflict's resolution are size-checked as a `put` is (one helper for the three): refused with `too_large` and kept listed, not sent to be rejected again (issue 13 audit): 24,057 B.
     * Session 19 (issue 10, "the bundle", nine helper passes; each cut, its bytes and what was
     * refused are in docs/decisions.md, "Issue 10, session 19"):
     * S19 sizeA, the client's side: -122 B on its branch (23,935 B). sizeB, persistence: -73 B
     * (23,984 B). sizeD, protocol, clock and store: -42 B (24,015 B). hlcfix: +4 B, a conflict
     * answer whose server record's hlc is not an HLC is settled (a fix). Merged: 23,812 B.
     * S19 sizeC, replication: -114 B on its branch; merged 23,701 B.
     * S19 sizeG, across areas (second copies of one step): -21 B: 23,680 B.
     * S19 sizeF, tabs and targeting wiring: -99 B on its branch (the outbox's tabs hook, the
     * delivery inbox and the client's tab calls move to the tabs and targeting entries); merged
     * 23,580 B.
     * S19 sizeE, adapter-rest, errors, ids, conflict, text, env: -188 B on its branch; merged
     * 23,405 B.
     * S19 second round: sizeH3 -5 B, sizeH4 (adapter-rest) -50 B, sizeH2's pull-loop cut -27 B
     * (its push-loop cut taken back: session 11's window), the push loop's root fix (it forgets
     * itself in its finally; the #again pass goes) -12 B, sizeH1 (the client's side) -40 B:
     * 23,255 B, within issue 10's 23,258 B (beece6f, the code the issue was filed on, measured
     * the same way: `sync-core` + `adapter-rest` from dist/, this entry).
     * Session 20 (issue 13, the same passes and fixes as above): 22,973 B; second round:
     * 22,913 B.
     * Session 21 (issue 13, the same third round as above): 22,520 B; +18 B at the review (the
     * settlement's unused write parameter, above): 22,538 B.
     */
    budgetBytes: 22_538,
    /** Issue 10: 23.3 kB (1000-byte kB) when it was filed, and it must not grow. */
    targetBytes: 23_300,
  },
];
/** A text only the push-request validators contain: they are the server's, never the app's. */
const SERVER_ONLY_MARKER = 'duplicate mutation id in one request';

const kb = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(1)} kB`;
for (const check of CHECKS) {
  const { minified, gzipped, text } = await measureBundle(check.entry);
  console.log(
    `browser bundle (${check.name}): ${kb(minified)} minified, ${kb(
      gzipped,
    )} min+gzip (${gzipped} bytes); budget ${kb(
      check.budgetBytes,
    )}, target ${kb(check.targetBytes)}`,
  );
  if (gzipped > check.budgetBytes) {
    console.error(
      `FAILED: ${check.name} is ${kb(gzipped)}, over its budget of ${kb(check.budgetBytes)}`,
    );
    process.exitCode = 1;
  }
  if (text.includes(SERVER_ONLY_MARKER)) {
    console.error(`FAILED: ${check.name} ships the push-request validators (server-only)`);
    process.exitCode = 1;
  }
}

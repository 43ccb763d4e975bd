// Package httpapi serves bgsync's HTTP endpoints: Prometheus metrics,
// health probes and a JSON status of every direction.
//
// Endpoints (GET, except the Flagger webhooks; other methods get 405):
//
//	/metrics    Prometheus text exposition of Options.Gatherer.
//	/livez      200 "ok" while the process serves HTTP. Touches nothing
//	            else: no database, no direction state.
//	/readyz     200 "ok" when every direction is running; otherwise 503
//	            with one line per direction that is not:
//	            "<direction>: <state>: <first line of its last error>".
//	/healthz    the same as /readyz.
//	/v1/status  JSON: {"version", "ready", "directions": [...]}, one
//	            object per direction with its state, restarts, last error,
//	            checkpoint, lag and its p50/p99 (seconds), last applied
//	            commit time (RFC 3339, null before the first), captured
//	            and applied counters, echo drops and conflicts by kind
//	            and resolution, unresolved conflicts; and "last_verify":
//	            the last recorded verify run (finished, status, divergent
//	            tables, last consistent run), null when none is known.
//	/v1/gate/{cutover,rollback}
//	            200 with the gate verdict as JSON (package gate): status
//	            PASS, FAIL or PENDING, safe, reasons, figures. Query
//	            parameters max_lag, verify_max_age, error_window override
//	            Options.Gate.Thresholds; a malformed one is 400.
//	POST /v1/flagger/{cutover,rollback}
//	            Flagger webhooks, by status code with one line of text:
//	            cutover 200 when safe, else 412; rollback 200 only when
//	            cutover is not safe and rollback is.
//
// Every direction's figures come from Options.Stats, called once per
// request; handlers never block on the pipeline. The gates also read the
// last verify run through Options.Gate.LastVerify (the caller bounds and
// caches it); the other endpoints touch no database. Error
// text from the pipeline may quote a database error: it passes through
// Options.Scrub before it is written.
//
// Authentication: when Options.Token is set, every endpoint except /livez
// and /readyz requires "Authorization: Bearer <token>" and answers 401
// otherwise. The comparison takes the same time whatever the token
// offered. Kubernetes probes therefore need no credentials; /readyz
// reveals only direction names, states and scrubbed error text.
//
// Lifecycle: Listen opens the address at once, so a bad or busy address
// is an error for the caller at startup, then serves in a goroutine until
// Shutdown, which waits for requests in flight up to the context's
// deadline.
//
//	h := httpapi.NewHandler(httpapi.Options{Gatherer: reg, Stats: stats, Scrub: scrub, Token: token})
//	srv, err := httpapi.Listen("127.0.0.1:9187", h, log)
//	if err != nil { ... }
//	defer srv.Shutdown(ctx)
package httpapi

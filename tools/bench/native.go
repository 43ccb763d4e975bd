package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	nativePub = "bench_native_pub"
	nativeSub = "bench_native_sub" // also the name of its slot on blue
)

// phaseResult is one backlog phase of one engine.
type phaseResult struct {
	ran     bool
	load    time.Duration
	drained drained
	cpu     cpuUse
	rssKiB  int64   // bgsync: VmHWM just before stopping
	procCPU float64 // bgsync: utime+stime of the process just before stopping
	stop    time.Duration
	err     error
}

func (p *phaseResult) rate(rows int) float64 {
	if !p.ran || p.err != nil || p.drained.done <= 0 {
		return 0
	}
	return float64(rows) / p.drained.done.Seconds()
}

// engineResult is everything measured for one engine.
type engineResult struct {
	inserts, updates phaseResult
	live             liveResult
	progress         *progress // bgsync: last progress line of the live phase
	liveRSSKiB       int64
	liveStop         time.Duration // bgsync: SIGTERM → exit after the live phase
	problems         []string
}

func (r *engineResult) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("PROBLEM: %s", msg)
	r.problems = append(r.problems, msg)
}

// runNative measures publication + subscription. The subscription is
// created disabled with copy_data = false on the empty table, so its slot
// on blue starts before any data; each phase is loaded while it is
// disabled, then it is enabled and timed until green has caught up.
func (e *env) runNative(ctx context.Context) *engineResult {
	r := &engineResult{}
	if err := errors.Join(ensure(ctx, e.blue, "postgres", &e.adminBlue), ensure(ctx, e.green, "postgres", &e.adminGreen)); err != nil {
		r.problem("native: %v", err)
		return r
	}
	logf("native: fresh database %s on blue and green, publication + disabled subscription", nativeDB)
	if err := freshDB(ctx, e.adminBlue, e.blue, nativeDB); err != nil {
		r.problem("native: %v", err)
		return r
	}
	if err := freshDB(ctx, e.adminGreen, e.green, nativeDB); err != nil {
		r.problem("native: %v", err)
		return r
	}
	blue, err := e.blue.connect(ctx, nativeDB)
	if err != nil {
		r.problem("native: %v", err)
		return r
	}
	defer func() { blue.Close(context.Background()) }()
	green, err := e.green.connect(ctx, nativeDB)
	if err != nil {
		r.problem("native: %v", err)
		return r
	}
	defer func() { green.Close(context.Background()) }()
	if _, err := blue.Exec(ctx, "CREATE PUBLICATION "+nativePub+" FOR TABLE bench, lagprobe"); err != nil {
		r.problem("native: blue: create publication: %v", err)
		return r
	}
	sub := fmt.Sprintf("CREATE SUBSCRIPTION %s CONNECTION '%s' PUBLICATION %s WITH (enabled = false, copy_data = false)",
		nativeSub, e.blue.kv(nativeDB), nativePub)
	if _, err := green.Exec(ctx, sub); err != nil {
		r.problem("native: green: create subscription: %v", err)
		return r
	}

	for _, ph := range []struct {
		name string
		p    *phaseResult
	}{{"inserts", &r.inserts}, {"updates", &r.updates}} {
		*ph.p = e.nativePhase(ctx, &blue, &green, ph.name)
		if ph.p.err != nil {
			r.problem("native %s: %v", ph.name, ph.p.err)
			return r
		}
	}

	if e.o.live > 0 && e.o.nativeLive {
		logf("native: live phase, %d rows/s of %d-row updates for %s, probes every %s",
			e.o.liveRate, e.o.liveTxnRows, e.o.live, e.o.probeEvery)
		if err := errors.Join(ensure(ctx, e.blue, nativeDB, &blue), ensure(ctx, e.green, nativeDB, &green)); err != nil {
			r.problem("native live: %v", err)
			return r
		}
		if err := e.launcherReady(ctx, green); err != nil {
			r.problem("native live: %v", err)
			return r
		}
		e.lastEnable = time.Now()
		if err := setSubscription(ctx, green, blue, true); err != nil {
			r.problem("native live: %v", err)
			return r
		}
		r.live = runLive(ctx, e, nativeDB)
		if r.live.err != nil {
			r.problem("native live: %v", r.live.err)
		}
		logf("native: live lag p50 %s p99 %s over %d probes", r.live.p50.Round(time.Millisecond), r.live.p99.Round(time.Millisecond), r.live.probes)
		err := errors.Join(ensure(ctx, e.blue, nativeDB, &blue), ensure(ctx, e.green, nativeDB, &green))
		if err == nil {
			err = setSubscription(ctx, green, blue, false)
		}
		if err != nil {
			r.problem("native live: %v", err)
		}
	}
	return r
}

func (e *env) nativePhase(ctx context.Context, blue, green **pgx.Conn, phase string) phaseResult {
	p := phaseResult{ran: true}
	if p.err = errors.Join(ensure(ctx, e.blue, nativeDB, blue), ensure(ctx, e.green, nativeDB, green)); p.err != nil {
		return p
	}
	logf("native %s: loading %d rows on blue in %d-row transactions (subscription disabled)", phase, e.o.rows, e.o.txn)
	if p.load, p.err = loadPhase(ctx, *blue, phase, e.o.rows, e.o.txn); p.err != nil {
		return p
	}
	logf("native %s: loaded in %.1f s (%.0f rows/s); vacuum + checkpoint both sides", phase, p.load.Seconds(), float64(e.o.rows)/p.load.Seconds())
	if p.err = settle(ctx, *blue, *green); p.err != nil {
		return p
	}
	x, err := expect(ctx, *blue, phase, e.o.rows)
	if err != nil {
		p.err = err
		return p
	}
	if p.err = e.launcherReady(ctx, *green); p.err != nil {
		return p
	}
	s0 := e.cpu.snap(0)
	start := time.Now()
	e.lastEnable = start
	if _, p.err = (*green).Exec(ctx, "ALTER SUBSCRIPTION "+nativeSub+" ENABLE"); p.err != nil {
		return p
	}
	p.drained, p.err = waitCaughtUp(ctx, e.green, nativeDB, x, start, e.o.drainTimeout, nil)
	p.cpu = e.cpu.use(s0, e.cpu.snap(0))
	if p.err == nil {
		logf("native %s: green caught up in %.2f s (first change after %.2f s): %.0f rows/s",
			phase, p.drained.done.Seconds(), p.drained.first.Seconds(), p.rate(e.o.rows))
	}
	err = errors.Join(ensure(ctx, e.blue, nativeDB, blue), ensure(ctx, e.green, nativeDB, green))
	if err == nil {
		err = setSubscription(ctx, *green, *blue, false)
	}
	if err != nil && p.err == nil {
		p.err = err
	}
	return p
}

// setSubscription enables or disables the subscription and waits until its
// apply worker (and the walsender on blue) runs, or has stopped.
func setSubscription(ctx context.Context, green, blue *pgx.Conn, on bool) error {
	verb := "DISABLE"
	if on {
		verb = "ENABLE"
	}
	if _, err := green.Exec(ctx, "ALTER SUBSCRIPTION "+nativeSub+" "+verb); err != nil {
		return fmt.Errorf("green: alter subscription %s: %w", verb, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var workers int
		var active bool
		if err := green.QueryRow(ctx, `SELECT count(*) FROM pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL`, nativeSub).Scan(&workers); err != nil {
			return err
		}
		if err := blue.QueryRow(ctx, `SELECT coalesce(bool_or(active), false) FROM pg_replication_slots WHERE slot_name = $1`, nativeSub).Scan(&active); err != nil {
			return err
		}
		if on && workers > 0 && active || !on && workers == 0 && !active {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("subscription %s: worker not %sd after 30 s", nativeSub, verb)
}

// cleanupNative removes the subscription (without needing blue), its slot
// on blue and the publication; the databases are dropped by the caller.
func (e *env) cleanupNative(ctx context.Context) []error {
	var errs []error
	if err := errors.Join(ensure(ctx, e.blue, "postgres", &e.adminBlue), ensure(ctx, e.green, "postgres", &e.adminGreen)); err != nil {
		return []error{err}
	}
	var exists bool
	if err := e.adminGreen.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, nativeDB).Scan(&exists); err != nil {
		return []error{err}
	}
	if exists {
		green, err := e.green.connect(ctx, nativeDB)
		if err != nil {
			return []error{err}
		}
		defer green.Close(context.Background())
		var subs []string
		rows, err := green.Query(ctx, `SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`)
		if err == nil {
			subs, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("green: list subscriptions: %w", err))
		}
		for _, s := range subs {
			id := pgx.Identifier{s}.Sanitize()
			for _, sql := range []string{"ALTER SUBSCRIPTION " + id + " DISABLE", "ALTER SUBSCRIPTION " + id + " SET (slot_name = NONE)", "DROP SUBSCRIPTION " + id} {
				if _, err := green.Exec(ctx, sql); err != nil {
					errs = append(errs, fmt.Errorf("green: %s: %w", sql, err))
					break
				}
			}
		}
	}
	errs = append(errs, dropSlot(ctx, e.adminBlue, nativeSub)...)
	return errs
}

// dropSlot drops a replication slot if it exists, ending the walsender
// that holds it first.
func dropSlot(ctx context.Context, admin *pgx.Conn, slot string) []error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		var exists bool
		var pid *int32
		if err := admin.QueryRow(ctx, `SELECT true, active_pid FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&exists, &pid); err != nil {
			if err == pgx.ErrNoRows {
				return nil
			}
			return []error{err}
		}
		if pid != nil {
			_, _ = admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, *pid)
		} else if _, err := admin.Exec(ctx, `SELECT pg_drop_replication_slot($1)`, slot); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return []error{fmt.Errorf("drop slot %s: %w", slot, err)}
		}
		if time.Now().After(deadline) {
			return []error{fmt.Errorf("slot %s still active after 20 s", slot)}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// launcherReady waits until wal_retrieve_retry_interval has passed since
// this tool last enabled the subscription: PostgreSQL's logical
// replication launcher starts workers at most once per that interval, and
// an ENABLE inside it waits for the rest of it (up to 5 s by default),
// which is a launcher throttle, not apply speed.
func (e *env) launcherReady(ctx context.Context, green *pgx.Conn) error {
	if e.lastEnable.IsZero() {
		return nil
	}
	var msec int64
	if err := green.QueryRow(ctx, `SELECT setting::bigint FROM pg_settings WHERE name = 'wal_retrieve_retry_interval'`).Scan(&msec); err != nil {
		return err
	}
	wait := time.Until(e.lastEnable.Add(time.Duration(msec)*time.Millisecond + 200*time.Millisecond))
	if wait > 0 {
		logf("native: waiting %.1f s for the launcher's wal_retrieve_retry_interval", wait.Seconds())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil
}

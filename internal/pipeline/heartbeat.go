package pipeline

import (
	"context"
	"log/slog"
	"time"

	capturepg "github.com/bgsync/bgsync/capture/postgres"
)

// slotEvery is how many beats pass between two reads of the slot's
// retention.
const slotEvery = 10

// heartbeat writes a beat into the source every HeartbeatInterval and reads
// the slot's retention every slotEvery beats, until ctx is done or the
// direction drains. It runs beside the supervised stages, through their
// restarts: beats written while the direction is down are what make its lag
// grow. Failures are logged when they start and when they end, never
// fatal; a failed beat reconnects at the next tick.
func (d *Direction) heartbeat(ctx context.Context) {
	var mon Beater
	defer func() {
		if mon != nil {
			_ = mon.Close(context.Background())
		}
	}()
	beats := &failures{log: d.log, what: "heartbeat", effect: "lag grows until it succeeds"}
	slots := &failures{log: d.log, what: "slot retention read", effect: "bgsync_source_retained_bytes is stale"}
	tick := time.NewTicker(d.cfg.HeartbeatInterval)
	defer tick.Stop()
	for n := 0; ; n++ {
		if mon == nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := d.openBeater(cctx)
			cancel()
			beats.report(err)
			mon = m
		}
		if mon != nil {
			if err := d.beat(ctx, mon); err != nil {
				beats.report(err)
				_ = mon.Close(context.Background())
				mon = nil
			} else {
				beats.report(nil)
				if pm, ok := mon.(*capturepg.Monitor); ok && n%slotEvery == 0 {
					slots.report(d.readSlot(ctx, pm))
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.drain:
			return
		case <-tick.C:
		}
	}
}

// Beater writes heartbeats into a source.
type Beater interface {
	Beat(ctx context.Context, seq int64) error
	Close(ctx context.Context) error
}

// openBeater opens the source's heartbeat writer: OpenBeater when set,
// else a PostgreSQL monitor (which also reads the slot's retention).
func (d *Direction) openBeater(ctx context.Context) (Beater, error) {
	if d.cfg.OpenBeater != nil {
		return d.cfg.OpenBeater(ctx)
	}
	m, err := capturepg.OpenMonitor(ctx, d.cfg.Capture.DSN, d.cfg.Schema, d.cfg.Side, d.cfg.Capture.Slot)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// failures logs when a repeated operation starts and stops failing.
type failures struct {
	log          *slog.Logger
	what, effect string
	failing      bool
}

func (f *failures) report(err error) {
	switch {
	case err != nil && !f.failing:
		f.log.Warn(f.what+" failing; "+f.effect, "error", err.Error())
	case err == nil && f.failing:
		f.log.Info(f.what + " succeeds again")
	}
	f.failing = err != nil
}

// beat writes one heartbeat.
func (d *Direction) beat(ctx context.Context, mon Beater) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	running := d.stats.get().State == StateRunning
	seq := d.lag.send(time.Now(), running)
	err := mon.Beat(ctx, seq)
	d.lag.sent(seq, time.Now(), err == nil)
	return err
}

// readSlot records the slot's retention.
func (d *Direction) readSlot(ctx context.Context, mon *capturepg.Monitor) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := mon.Slot(ctx)
	if err != nil {
		return err
	}
	if st.WALStatus == "lost" {
		d.log.Error("the source removed WAL the slot still needed (wal_status lost): the slot cannot be read any more; "+
			"drop and recreate it (bgsync teardown, then setup) and copy the tables again", "slot", d.cfg.Capture.Slot)
	}
	d.stats.update(func(s *Stats) { s.RetainedBytes, s.SlotWALStatus = st.RetainedBytes, st.WALStatus })
	return nil
}

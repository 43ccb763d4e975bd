package pipeline

import (
	"context"
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
// fatal.
func (d *Direction) heartbeat(ctx context.Context) {
	var mon *capturepg.Monitor
	defer func() {
		if mon != nil {
			_ = mon.Close(context.Background())
		}
	}()
	failing := false
	report := func(err error) {
		switch {
		case err != nil && !failing:
			d.log.Warn("heartbeat failing; lag grows until it succeeds", "error", err.Error())
		case err == nil && failing:
			d.log.Info("heartbeat writing again")
		}
		failing = err != nil
	}
	tick := time.NewTicker(d.cfg.HeartbeatInterval)
	defer tick.Stop()
	for n := 0; ; n++ {
		if mon == nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := capturepg.OpenMonitor(cctx, d.cfg.Capture.DSN, d.cfg.Schema, d.cfg.Side, d.cfg.Capture.Slot)
			cancel()
			report(err)
			mon = m
		}
		if mon != nil {
			report(d.beat(ctx, mon, n%slotEvery == 0))
			if failing {
				_ = mon.Close(context.Background())
				mon = nil
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

// beat writes one heartbeat and, when slot is set, reads the slot.
func (d *Direction) beat(ctx context.Context, mon *capturepg.Monitor, slot bool) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var running bool
	d.stats.update(func(s *Stats) { running = s.State == StateRunning })
	seq := d.lag.send(time.Now(), running)
	err := mon.Beat(ctx, seq)
	d.lag.sent(seq, time.Now(), err == nil)
	if err != nil || !slot {
		return err
	}
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

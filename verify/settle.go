package verify

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Settling: a row that differs while a sync runs may be a change on its
// way. After a chunk that differed is read, the current source position
// of each running direction's source is noted; before the rows are read
// again, verify waits until every direction has applied past it:
//   - a PostgreSQL source (Options.Slots): its slot's confirmed_flush_lsn,
//     which bgsync advances only to what the target has committed;
//   - a MariaDB/MySQL source (Options.Checkpoints): the direction's
//     checkpoint row on the target, whose source_position is the end of
//     the last source transaction applied (binlog file sequence << 32 |
//     offset, the same unit as SHOW MASTER STATUS gives here). Heartbeats
//     bgsync writes on the source every second move it past transactions
//     the capture drops (echoes, tables not synced).

// positions are the current source positions of the running directions,
// by source side.
type positions map[string]uint64

func (a positions) max(b positions) positions {
	if a == nil {
		a = positions{}
	}
	for k, v := range b {
		a[k] = max(a[k], v)
	}
	return a
}

// sources are the source sides of the running directions.
func (o *Options) sources() []string {
	var out []string
	for s := range o.Slots {
		out = append(out, s)
	}
	for s := range o.Checkpoints {
		if _, ok := o.Slots[s]; !ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// live: a sync is running, and differences are re-read once it has
// applied what was committed when they were found.
func (o *Options) live() bool { return len(o.Slots)+len(o.Checkpoints) > 0 }

func sideIndex(name string) int {
	if name == "green" {
		return 1
	}
	return 0
}

func (p *pair) positions(ctx context.Context, o *Options) (positions, error) {
	out := positions{}
	for _, src := range o.sources() {
		pos, err := p.sides[sideIndex(src)].position(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		out[src] = pos
	}
	return out, nil
}

// applied is how far the direction reading src has applied: ok false
// while nothing is.
func (p *pair) applied(ctx context.Context, o *Options, src string) (uint64, bool, string, error) {
	i := sideIndex(src)
	if slot, ok := o.Slots[src]; ok {
		pg, isPg := p.sides[i].(*pgSide)
		if !isPg {
			return 0, false, "", fmt.Errorf("%s: a replication slot is given for a side that is not PostgreSQL", src)
		}
		pos, ok, err := pg.slotConfirmed(ctx, slot)
		if err != nil {
			return 0, false, "", fmt.Errorf("%s: %w", src, err)
		}
		return pos, ok, fmt.Sprintf("slot %s on %s has not confirmed the position verify saw", slot, src), nil
	}
	dir := o.Checkpoints[src]
	pos, ok, err := p.sides[1-i].checkpoint(ctx, o.Schema, dir)
	if err != nil {
		return 0, false, "", fmt.Errorf("%s: %w", sideName[1-i], err)
	}
	return pos, ok, fmt.Sprintf("%s has not applied the %s binlog position verify saw (checkpoint on %s)", dir, src, sideName[1-i]), nil
}

// waitSettled waits until every running direction has applied past want.
func (p *pair) waitSettled(ctx context.Context, o *Options, want positions, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		behind := ""
		for _, src := range o.sources() {
			pos, ok, why, err := p.applied(ctx, o, src)
			if err != nil {
				return err
			}
			if !ok || pos < want[src] {
				behind = why
			}
		}
		if behind == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s within %s (is bgsync run running?)", behind, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/bgsync/bgsync/internal/snapshot"
)

// showSnapshotProgress reports a copy's progress on w until the returned
// stop is called: redrawn bars per table on a terminal, else a plain line
// every `every` (none when every is 0). stop draws the final state.
func showSnapshotProgress(w io.Writer, every time.Duration, p *snapshot.Progress) (stop func()) {
	term := isTerminal(w)
	if !term && every <= 0 {
		return func() {}
	}
	tick := every
	if term {
		tick = 250 * time.Millisecond
	}
	r := &snapshotReport{w: w, term: term, first: map[string]time.Time{}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				r.show(p.Status(), now)
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		if s := p.Status(); len(s.Tables) > 0 {
			r.show(s, time.Now())
		}
	}
}

type snapshotReport struct {
	w     io.Writer
	term  bool
	drawn int
	first map[string]time.Time // when each table's first row was seen
	lastN int64
	lastT time.Time
}

func (r *snapshotReport) show(s snapshot.Status, now time.Time) {
	if len(s.Tables) == 0 {
		return
	}
	elapsed := now.Sub(s.Started)
	if !r.term {
		rate := 0.0
		if !r.lastT.IsZero() {
			rate = float64(s.Rows-r.lastN) / max(now.Sub(r.lastT).Seconds(), 1e-3)
		} else if elapsed > 0 {
			rate = float64(s.Rows) / elapsed.Seconds()
		}
		r.lastN, r.lastT = s.Rows, now
		var parts []string
		for _, t := range s.Tables {
			parts = append(parts, fmt.Sprintf("%s %d/%d ranges", t.Table, t.ChunksDone, t.Chunks))
		}
		fmt.Fprintf(r.w, "snapshot: %d rows copied in %s (%.0f rows/s); %s\n",
			s.Rows, elapsed.Round(time.Second), rate, strings.Join(parts, ", "))
		return
	}
	width := 0
	for _, t := range s.Tables {
		width = max(width, len(t.Table))
	}
	var sb strings.Builder
	if r.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", r.drawn)
	}
	for _, t := range s.Tables {
		if _, ok := r.first[t.Table]; !ok && t.Rows > 0 {
			r.first[t.Table] = now
		}
		sb.WriteString("\r\x1b[K")
		sb.WriteString(snapshotBar(t, width, now.Sub(r.first[t.Table]), r.first[t.Table].IsZero()))
		sb.WriteByte('\n')
	}
	r.drawn = len(s.Tables)
	_, _ = io.WriteString(r.w, sb.String())
}

// snapshotBar is one table's bar: name, bar over its ranges, rows, rows/s
// and an ETA from the table's estimated rows at its own pace.
func snapshotBar(t snapshot.TableProgress, nameWidth int, took time.Duration, notStarted bool) string {
	frac := 0.0
	if t.Chunks > 0 {
		frac = min(1, float64(t.ChunksDone)/float64(t.Chunks))
	}
	fill := int(frac * barWidth)
	bar := strings.Repeat("#", fill) + strings.Repeat("-", barWidth-fill)
	rate := 0.0
	if !notStarted && took > 0 {
		rate = float64(t.Rows) / took.Seconds()
	}
	eta := "ETA ?"
	switch {
	case t.Chunks > 0 && t.ChunksDone >= t.Chunks:
		eta = "done"
	case rate > 0 && t.Estimate > 0:
		left := float64(max(t.Estimate-t.Rows, 0)) / rate
		eta = "ETA " + fmtClock(time.Duration(left*float64(time.Second)))
	}
	return fmt.Sprintf("%-*s [%s] %3.0f%%  %d/%d ranges  %s rows  %s rows/s  %s",
		nameWidth, t.Table, bar, frac*100, t.ChunksDone, t.Chunks, shortCount(t.Rows), shortCount(int64(rate)), eta)
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bgsync/bgsync/verify"
)

// isTerminal reports whether w is a character device (a terminal) and TERM
// does not say it cannot move the cursor.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLines prints a plain line at most every `every`: for logs and
// pipes.
func progressLines(w io.Writer, every time.Duration) func(verify.Progress) {
	var mu sync.Mutex
	var last time.Time
	return func(p verify.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < every {
			return
		}
		last = time.Now()
		of := "?"
		if p.Chunks > 0 {
			of = fmt.Sprint(p.Chunks)
		}
		fmt.Fprintf(w, "verify: %s chunk %d/%s; %d rows read on both sides in %s (%.0f rows/s)\n",
			p.Table, p.ChunksDone, of, p.Rows, p.Elapsed.Round(time.Second), float64(p.Rows)/p.Elapsed.Seconds())
	}
}

// progressBars draws one bar per table on a terminal, redrawn in place
// (at most every redraw), each with its chunks, rows and an ETA from the
// table's own pace. Finish draws the last state.
type progressBars struct {
	w      io.Writer
	redraw time.Duration
	now    func() time.Time

	mu     sync.Mutex
	tables []*barTable // in the order first seen
	byName map[string]*barTable
	drawn  int // lines on screen from the previous draw
	last   time.Time
}

type barTable struct {
	name         string
	done, chunks int
	rows         int64
	first, at    time.Time // the table's first and latest chunk
}

func newProgressBars(w io.Writer) *progressBars {
	return &progressBars{w: w, redraw: 200 * time.Millisecond, now: time.Now, byName: map[string]*barTable{}}
}

func (b *progressBars) update(p verify.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	t := b.byName[p.Table]
	if t == nil {
		// The first chunk's time is the table's start, less that chunk's
		// own share: the ETA then counts it.
		t = &barTable{name: p.Table, first: now}
		b.byName[p.Table] = t
		b.tables = append(b.tables, t)
	}
	t.done, t.chunks, t.rows, t.at = p.ChunksDone, p.Chunks, p.TableRows, now
	if now.Sub(b.last) >= b.redraw {
		b.draw(now)
	}
}

// finish draws the final state once more.
func (b *progressBars) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(b.now())
}

func (b *progressBars) draw(now time.Time) {
	b.last = now
	width := 0
	for _, t := range b.tables {
		width = max(width, len(t.name))
	}
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn) // back to the first bar
	}
	for _, t := range b.tables {
		sb.WriteString("\r\x1b[K")
		sb.WriteString(barLine(t, width, now))
		sb.WriteByte('\n')
	}
	b.drawn = len(b.tables)
	_, _ = io.WriteString(b.w, sb.String())
}

const barWidth = 30

// barLine is one table's bar: name, bar, percent, chunks, rows, ETA.
func barLine(t *barTable, nameWidth int, now time.Time) string {
	frac := 0.0
	if t.chunks > 0 {
		frac = min(1, float64(t.done)/float64(t.chunks))
	}
	fill := int(frac * barWidth)
	bar := strings.Repeat("#", fill) + strings.Repeat("-", barWidth-fill)
	of := "?"
	if t.chunks > 0 {
		of = fmt.Sprint(t.chunks)
	}
	eta := "ETA ?"
	switch {
	case t.chunks > 0 && t.done >= t.chunks:
		eta = "done in " + fmtClock(t.at.Sub(t.first))
	case t.chunks > 0 && t.done > 1:
		// The pace of the chunks after the first (its start is unknown).
		per := t.at.Sub(t.first) / time.Duration(t.done-1)
		left := per*time.Duration(t.chunks-t.done) - now.Sub(t.at)
		eta = "ETA " + fmtClock(max(left, 0))
	}
	return fmt.Sprintf("%-*s [%s] %3.0f%%  %d/%s chunks  %s rows  %s",
		nameWidth, t.name, bar, frac*100, t.done, of, shortCount(t.rows), eta)
}

// fmtClock writes d as m:ss, or h:mm:ss from an hour.
func fmtClock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// shortCount writes n as 950, 12.3k, 4.5M.
func shortCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

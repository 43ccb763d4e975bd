package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bgsync/bgsync/verify"
)

func TestProgressBars(t *testing.T) {
	var out bytes.Buffer
	b := newProgressBars(&out)
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return now }
	b.redraw = 0

	b.update(verify.Progress{Table: "public.orders", ChunksDone: 1, Chunks: 10, TableRows: 20_000})
	now = now.Add(10 * time.Second)
	b.update(verify.Progress{Table: "public.orders", ChunksDone: 3, Chunks: 10, TableRows: 60_000})
	b.update(verify.Progress{Table: "app.line_items", ChunksDone: 1, Chunks: 0, TableRows: 950})
	first := out.String()
	if !strings.Contains(first, "public.orders  [#########---------------------]  30%  3/10 chunks  60.0k rows  ETA 0:35") {
		t.Errorf("orders after 3 of 10 chunks in 10s (5s a chunk after the first):\n%q", first)
	}
	if !strings.Contains(first, "app.line_items [------------------------------]   0%  1/? chunks  950 rows  ETA ?") {
		t.Errorf("a table not cut yet:\n%q", first)
	}
	out.Reset()
	now = now.Add(35 * time.Second)
	b.update(verify.Progress{Table: "public.orders", ChunksDone: 10, Chunks: 10, TableRows: 200_000})
	b.finish()
	again := out.String()
	// Redrawn in place: up two lines, then each line cleared and rewritten.
	if !strings.HasPrefix(again, "\x1b[2A\r\x1b[K") || strings.Count(again, "\r\x1b[K") != 4 {
		t.Errorf("redraw does not overwrite the two bars:\n%q", again)
	}
	if !strings.Contains(again, "100%  10/10 chunks  200.0k rows  done in 0:45") {
		t.Errorf("finished table:\n%q", again)
	}
}

func TestProgressLinesThrottle(t *testing.T) {
	var out bytes.Buffer
	f := progressLines(&out, time.Hour)
	for i := 1; i <= 5; i++ {
		f(verify.Progress{Table: "public.t", ChunksDone: i, Chunks: 5, Rows: int64(i) * 100, Elapsed: time.Second})
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || !strings.Contains(out.String(), "verify: public.t chunk 1/5; 100 rows") {
		t.Errorf("want the first line only within the interval, got %d:\n%s", n, out.String())
	}
	if isTerminal(&out) {
		t.Error("a buffer is not a terminal")
	}
}

package snapshot

import (
	"context"
	"strings"
	"testing"
	"time"

	applypg "github.com/bgsync/bgsync/apply/postgres"
	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/pgtext"
)

func TestAppendCopyRowRoundTrip(t *testing.T) {
	cols := []change.Column{{Name: "id", Key: true}, {Name: "note"}, {Name: "gone"}, {Name: "raw"}, {Name: "n"}}
	row := change.Row{change.Int(-7), change.Text("tab\there\nnewline \\ back"), change.Null(), change.Bytes([]byte{0, 1, 0xff}), change.Numeric("12.50")}
	line, err := appendCopyRow(nil, cols, row)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(line), "\n") != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("one row must be one line: %q", line)
	}
	fields := pgtext.SplitCopyLine(nil, line[:len(line)-1])
	want := []string{"-7", "tab\there\nnewline \\ back", "", `\x0001ff`, "12.50"}
	if len(fields) != len(want) {
		t.Fatalf("fields %q", fields)
	}
	for i, w := range want {
		if i == 2 {
			if fields[i] != nil {
				t.Errorf("NULL came back as %q", fields[i])
			}
			continue
		}
		if string(fields[i]) != w {
			t.Errorf("field %d = %q, want %q", i, fields[i], w)
		}
	}
	if _, err := appendCopyRow(nil, cols[:1], change.Row{change.Unchanged()}); err == nil || !strings.Contains(err.Error(), "column id") {
		t.Errorf("an unchanged-TOAST marker must be refused naming the column, got %v", err)
	}
}

func TestLimiterHoldsTheRate(t *testing.T) {
	l := newLimiter(1000)
	start := time.Now()
	for range 30 {
		if err := l.wait(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
	}
	// 3000 rows at 1000/s with one second of burst: about two seconds.
	if d := time.Since(start); d < 1800*time.Millisecond || d > 4*time.Second {
		t.Errorf("3000 rows at 1000/s took %s, want about 2s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.wait(ctx, 5000); err == nil {
		t.Error("a cancelled wait returned nil")
	}
	if err := newLimiter(0).wait(context.Background(), 1<<30); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

func TestCheckPlanTables(t *testing.T) {
	a, b := change.Table{Schema: "public", Name: "a"}, change.Table{Schema: "public", Name: "b"}
	plan := &applypg.SnapshotPlan{Chunks: []applypg.SnapshotChunk{{Table: a, N: 0}, {Table: a, N: 1}}}
	if err := checkPlanTables(&Config{Tables: []Table{{Source: a}}}, plan); err != nil {
		t.Errorf("same tables: %v", err)
	}
	err := checkPlanTables(&Config{Direction: "blue-to-green", Tables: []Table{{Source: b}}}, plan)
	if err == nil || !strings.Contains(err.Error(), "public.b") || !strings.Contains(err.Error(), "public.a") {
		t.Errorf("changed tables must be refused naming both: %v", err)
	}
}

func TestLowest(t *testing.T) {
	if lo := lowest([]applypg.SnapshotChunk{{Position: 50}, {Position: 20}, {Position: 70}}); lo != 20 {
		t.Errorf("lowest = %d, want 20", lo)
	}
}

func TestInterleave(t *testing.T) {
	a, b := change.Table{Schema: "s", Name: "a"}, change.Table{Schema: "s", Name: "b"}
	in := []applypg.SnapshotChunk{{Table: a, N: 0}, {Table: a, N: 1}, {Table: a, N: 2}, {Table: b, N: 0}}
	var got []string
	for _, c := range interleave(in) {
		got = append(got, c.Table.Name+string(rune('0'+c.N)))
	}
	if strings.Join(got, " ") != "a0 b0 a1 a2" {
		t.Errorf("interleave = %v, want a0 b0 a1 a2", got)
	}
}

package verify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
)

var testShape = &shape{table: change.Table{Schema: "public", Name: "t"}, key: []string{"a", "b"},
	cols: []string{"a", "b", "v"}, types: map[string]string{"a": "text", "b": "integer", "v": "text"}}

func TestRowSetSplitsLinesAcrossWrites(t *testing.T) {
	r := newRowSet(testShape, 0, rowLines)
	for _, part := range []string{"x\t1\tone\ny", "\t2\ttw", "o\n", "z\\tq\t3\t\\N\n"} {
		if _, err := r.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if r.n != 3 || len(r.rows) != 3 {
		t.Fatalf("%d rows, keys %v", r.n, r.rows)
	}
	for _, k := range []string{"x\t1", "y\t2", `z\tq` + "\t3"} {
		if _, ok := r.line[k]; !ok {
			t.Errorf("key %q missing; have %v", k, r.line)
		}
	}
	if r.line["y\t2"] != "y\t2\ttwo" {
		t.Errorf("line of y,2: %q", r.line["y\t2"])
	}
	sum := newRowSet(testShape, 0, sumOnly)
	sum.Write([]byte("y\t2\ttwo\nx\t1\tone\nz\\tq\t3\t\\N\n"))
	if sum.n != 3 || sum.sum != r.sum || sum.rows != nil {
		t.Errorf("sum of the same rows in another order: n %d sum %x, want %x", sum.n, sum.sum, r.sum)
	}
}

func TestKeyTupleRoundTripsCopyText(t *testing.T) {
	got := testShape.keyTuple(`it's\ta\\b` + "\t42")
	want := `('it''s` + "\t" + `a\b'::text, '42'::integer)`
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if s := chunkSQL(testShape, chunk{lo: "a\t1", hi: "m\t2"}); !strings.Contains(s, `("a", "b") > ('a'::text, '1'::integer) AND ("a", "b") <= ('m'::text, '2'::integer)`) {
		t.Fatalf("chunk SQL: %s", s)
	}
}

func TestDifferingColumns(t *testing.T) {
	got := differingColumns(testShape, "x\t1\tone", "x\t1\t\\N")
	if strings.Join(got, ",") != "v" {
		t.Fatalf("got %v", got)
	}
}

func TestReportStatusAndText(t *testing.T) {
	r := &Report{Tables: []Table{{Name: "public.a", BlueRows: 3, GreenRows: 3, Matched: 3}}}
	if r.Status() != "consistent" {
		t.Fatal(r.Status())
	}
	b := Table{Name: "public.b", BlueRows: 2, GreenRows: 1, Matched: 1}
	b.add(diff{class: MissingOnGreen}, "7", 10)
	b.add(diff{class: InFlight}, "8", 10)
	r.Tables = append(r.Tables, b)
	if r.Status() != "divergent" {
		t.Fatal(r.Status())
	}
	r.Unsettled = "slot x has not confirmed"
	if r.Status() != "unmeasured" {
		t.Fatal("divergence that could be lag must not be called divergent:", r.Status())
	}
	r.Unsettled = ""
	var buf bytes.Buffer
	if err := r.Text(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"public.b missing on green: (7)", "public.b in flight: (8)", "DIVERGENT"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, buf.String())
		}
	}
	r.Tables = append(r.Tables, Table{Name: "public.c", Error: "columns differ"})
	if r.Status() != "unmeasured" {
		t.Fatal(r.Status())
	}
}

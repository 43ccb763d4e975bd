package main

import (
	"testing"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
	"github.com/google/go-cmp/cmp"
)

func TestPgKeyText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"one column", `{"id":"42"}`, `{"id": "42"}`},
		{"jsonb order: length, then bytes", `{"bb":"2","a":"1","ab":null}`, `{"a": "1", "ab": null, "bb": "2"}`},
		{"no HTML escaping", `{"k":"\u003ca\u0026b\u003e"}`, `{"k": "<a&b>"}`},
		{"quotes and newlines escaped", `{"k":"a\"b\nc"}`, `{"k": "a\"b\nc"}`},
		{"already in jsonb form", `{"id": "42"}`, `{"id": "42"}`},
		{"not a flat object: as it is", `[1,2]`, `[1,2]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := pgKeyText(c.in); got != c.want {
				t.Errorf("pgKeyText(%s) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}

func TestMyKeyJSON(t *testing.T) {
	// apply/mysql logs keys as apply.ImageJSON writes them: compact, keys
	// sorted, HTML escaped; a key listed in jsonb form must match it.
	for _, c := range []struct{ name, in, want string }{
		{"jsonb form", `{"b": "2", "aa": "1"}`, `{"aa":"1","b":"2"}`},
		{"escaped", `{"k": "<x>"}`, `{"k":"\u003cx\u003e"}`},
		{"null", `{"k": null}`, `{"k":null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := myKeyJSON(c.in)
			if err != nil || got != c.want {
				t.Errorf("myKeyJSON(%s) = %s, %v; want %s", c.in, got, err, c.want)
			}
		})
	}
	for _, bad := range []string{`{}`, `[1]`, `{"k": 1}`, `nope`} {
		if _, _, err := myKeyJSON(bad); err == nil {
			t.Errorf("myKeyJSON(%s): no error", bad)
		}
	}
}

func TestPgInsert(t *testing.T) {
	cols := []transform.Column{
		{Name: "id", Type: "integer"}, {Name: "ok", Type: "boolean"}, {Name: "at", Type: "timestamp with time zone"},
		{Name: "doc", Type: "jsonb"}, {Name: "note", Type: "text"}, {Name: "gone", Type: "text"},
	}
	row := change.Row{change.Int(7), change.Bool(true), {Kind: change.KindTimestampTZ, I: 0}, // µs since 2000-01-01
		change.JSON(`{"a": 1}`), change.Null(), {Kind: change.KindAbsent}}
	q, args, err := pgInsert(`"s"."t"`, cols, row)
	if err != nil {
		t.Fatal(err)
	}
	wantQ := `INSERT INTO "s"."t" ("id", "ok", "at", "doc", "note") VALUES ($1::text::integer, $2::text::boolean, ` +
		`$3::text::timestamp with time zone, $4::text::jsonb, $5::text::text)`
	if q != wantQ {
		t.Errorf("query:\n got %s\nwant %s", q, wantQ)
	}
	if diff := cmp.Diff([]any{"7", "t", "2000-01-01 00:00:00+00", `{"a": 1}`, nil}, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if _, _, err := pgInsert(`t`, cols[:1], change.Row{{Kind: change.KindAbsent}}); err == nil {
		t.Error("a row with nothing to write: no error")
	}
}

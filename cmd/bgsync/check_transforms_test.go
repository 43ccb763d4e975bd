package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/transform"
	"github.com/google/go-cmp/cmp"
)

var (
	ctBlue  = change.Table{Schema: "public", Name: "customers"}
	ctGreen = change.Table{Schema: "public", Name: "clients"}
	// Blue's and green's columns of the customers example.
	ctBlueCols = []transform.Column{{Name: "id", Type: "integer", Key: true, NotNull: true}, {Name: "email", Type: "text"},
		{Name: "name", Type: "text"}, {Name: "price_cents", Type: "integer"}, {Name: "legacy_code", Type: "text"}}
	ctGreenCols = []transform.Column{{Name: "id", Type: "bigint", Key: true, NotNull: true}, {Name: "email_address", Type: "text"},
		{Name: "first_name", Type: "text"}, {Name: "last_name", Type: "text"}, {Name: "price", Type: "numeric(12,2)"}}
)

// ctRoundTrip compiles the example's rules (email_address computed by
// emailOut) into a round trip from blue.
func ctRoundTrip(t *testing.T, emailOut string) *roundTrip {
	t.Helper()
	out := transform.Rule{Source: ctBlue, Target: ctGreen, Set: map[string]string{
		"email_address": emailOut,
		"first_name":    `split_part(name, " ", 0)`,
		"last_name":     `trim(join(split(name, " ")[1:], " "))`,
		"price":         `unscaled(price_cents, 2)`,
	}, Drop: []string{"name", "price_cents", "legacy_code"}}
	back := transform.Rule{Source: ctGreen, Target: ctBlue, Rename: map[string]string{"email_address": "email"},
		Set:  map[string]string{"name": `trim(first_name + " " + last_name)`, "price_cents": `scaled(price, 2)`},
		Drop: []string{"first_name", "last_name", "price"}}
	fwd, p1 := transform.Compile(out, ctBlueCols, ctGreenCols)
	bck, p2 := transform.Compile(back, ctGreenCols, ctBlueCols)
	if len(p1)+len(p2) > 0 {
		t.Fatalf("compile: %v %v", p1, p2)
	}
	return newRoundTrip(ctBlueCols, fwd, bck, out, back, "blue_to_green", "green_to_blue")
}

func TestRoundTripCheck(t *testing.T) {
	row := func(id int64, email, name string, cents change.Value) change.Row {
		return change.Row{change.Int(id), change.Text(email), change.Text(name), cents, change.Null()}
	}
	cases := []struct {
		name     string
		emailOut string
		row      change.Row
		want     string // the diffs, or the error
	}{
		{"lossless", "email", row(1, "a@x", "Ada Lovelace", change.Int(1250)), ""},
		{"one word", "email", row(1, "a@x", "Prince", change.Int(0)), ""},
		{"double space", "email", row(3, "a@x", "Alan  Turing", change.Int(1)), `name: "Alan  Turing" → "Alan Turing"`},
		{"lower", "lower(email)", row(2, "G@X", "Grace Hopper", change.Int(99)), `email: "G@X" → "g@x"`},
		{"null cents", "email", row(4, "a@x", "Ed D", change.Null()), ""}, // NULL in, NULL back
		{"failing expression", "int(email)", row(5, "a@x", "Ed D", change.Int(1)), "error: blue_to_green"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := ctRoundTrip(t, tc.emailOut)
			if got := strings.Join(rt.notFilled, ","); got != "legacy_code" {
				t.Errorf("not filled: %q, want legacy_code", got)
			}
			diffs, unset, _, err := rt.check(tc.row)
			var got []string
			for _, d := range diffs {
				got = append(got, fmt.Sprintf("%s: %q → %q", d.column, displayValue(d.original), displayValue(d.after)))
			}
			if err != nil {
				got = append(got, "error: "+err.Error())
			}
			if s := strings.Join(got, "; "); !strings.HasPrefix(s, tc.want) || (tc.want == "") != (s == "") {
				t.Errorf("got %q, want %q", s, tc.want)
			}
			if len(unset) > 0 {
				t.Errorf("unset %v, want none", unset)
			}
		})
	}
}

func TestRoundTripInvolvedAndFailure(t *testing.T) {
	rt := ctRoundTrip(t, "lower(email)")
	want := []string{`blue_to_green set first_name = split_part(name, " ", 0)`,
		`blue_to_green set last_name = trim(join(split(name, " ")[1:], " "))`,
		`green_to_blue set name = trim(first_name + " " + last_name)`}
	if d := cmp.Diff(want, rt.involved("name")); d != "" {
		t.Errorf("involved(name) (-want +got):\n%s", d)
	}
	want = []string{"blue_to_green set email_address = lower(email)", "green_to_blue rename email_address → email"}
	if d := cmp.Diff(want, rt.involved("email")); d != "" {
		t.Errorf("involved(email) (-want +got):\n%s", d)
	}
	rt = ctRoundTrip(t, "int(email)")
	_, _, _, err := rt.check(change.Row{change.Int(4), change.Text("a"), change.Text("b"), change.Null(), change.Null()})
	if err == nil {
		t.Fatal("int(\"a\") did not fail")
	}
	s := rt.failureSample(rt.key(change.Row{change.Int(4)}), err)
	if s.Table != "public.customers" || s.Key != "id=4" || s.Transform != "blue_to_green" || s.Target != "public.clients" ||
		s.Column != "email_address" || strings.Contains(s.Error, "\n") || len(s.Expressions) != 1 ||
		s.Expressions[0] != "blue_to_green set email_address = int(email)" {
		t.Errorf("failure sample: %+v", s)
	}
}

func TestExprColumns(t *testing.T) {
	cols := []string{"name", "first_name", "last_name", "odd col", "x"}
	cases := []struct{ expr, want string }{
		{`trim(first_name + " " + last_name)`, "first_name,last_name"},
		{`split_part(name, "first_name", 0)`, "name"},
		{`$env["odd col"] + name`, "odd col,name"},
		{`fromJSON(name).x`, "name"},
		{`trim(name) + trim(name)`, "name"},
		{`"unterminated`, ""},
		{`'it\'s' + x`, "x"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			if got := strings.Join(exprColumns(tc.expr, cols), ","); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSelectSample(t *testing.T) {
	cols := []transform.Column{{Name: "b", Key: true}, {Name: "Odd col"}, {Name: "a", Key: true}}
	tbl := change.Table{Schema: "s", Name: "T"}
	for _, tc := range []struct {
		limit int
		want  string
	}{
		{10, `SELECT "b", "Odd col", "a" FROM "s"."T" ORDER BY "b", "a" LIMIT 10`},
		{0, `SELECT "b", "Odd col", "a" FROM "s"."T" ORDER BY "b", "a"`},
	} {
		if got := selectSample(tbl, cols, tc.limit); got != tc.want {
			t.Errorf("limit %d: got %s, want %s", tc.limit, got, tc.want)
		}
	}
}

func TestRoundTripReportText(t *testing.T) {
	rep := &rtReport{Status: "lossy", Checks: []rtCheck{
		{Table: "public.customers", From: "blue", Direction: "blue→green→blue", Source: "public.customers", Via: "public.clients",
			RowsChecked: 3, LossyRows: 1, LossyColumns: map[string]int64{"name": 1}, NotRoundTripped: []string{"legacy_code"},
			Samples: []rtSample{{Table: "public.customers", Key: "id=3", Column: "name", Original: jsonValue(change.Text("a  b")),
				RoundTrip: jsonValue(change.Null()), Expressions: []string{"green_to_blue set name = x"}}}},
		{Table: "public.customers", From: "green", Direction: "green→blue→green", Source: "public.clients", Via: "public.customers",
			Error: "green: boom", NotRoundTripped: []string{}},
	}}
	var b bytes.Buffer
	if err := rep.text(&b); err != nil {
		t.Fatal(err)
	}
	want := `public.customers ⇄ public.clients
  blue→green→blue: 3 rows checked, 1 lossy (name: 1)
    not round-tripped: legacy_code
    public.customers id=3 name: "a  b" → NULL
      green_to_blue set name = x
  green→blue→green: could not read: green: boom (after 0 rows)
1 of 2 checks found lossy rows
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
}

func TestSameJSON(t *testing.T) {
	for _, tc := range []struct {
		a, b change.Value
		want bool
	}{
		{change.Text(`{"b": 1, "a": [2]}`), change.Text(`{"a": [2], "b": 1}`), true},
		{change.Text(`{"a": 1}`), change.Text(`{"a": 2}`), false},
		{change.Text(`not json`), change.Text(`not  json`), false},
		{change.JSON(`{"a":1}`), change.Text(`{"a": 1}`), false}, // only text that went through JSON
	} {
		if got := sameJSON(tc.a, tc.b); got != tc.want {
			t.Errorf("sameJSON(%q, %q) = %v, want %v", tc.a.S, tc.b.S, got, tc.want)
		}
	}
}

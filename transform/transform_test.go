package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
)

var (
	blueT  = change.Table{Schema: "public", Name: "customers"}
	greenT = change.Table{Schema: "public", Name: "clients"}
)

func cols(spec ...string) []Column {
	var out []Column
	for _, s := range spec {
		f := strings.Split(s, ":")
		c := Column{Name: f[0], Type: f[1]}
		for _, flag := range f[2:] {
			switch flag {
			case "key":
				c.Key, c.NotNull = true, true
			case "notnull":
				c.NotNull = true
			case "default":
				c.HasDefault = true
			}
		}
		out = append(out, c)
	}
	return out
}

func mustCompile(t testing.TB, r Rule, src, dst []Column) *Mapper {
	t.Helper()
	if r.Source.Name == "" {
		r.Source, r.Target = blueT, greenT
	}
	m, probs := Compile(r, src, dst)
	if len(probs) > 0 {
		t.Fatalf("compile: %v", probs)
	}
	return m.NewMapper()
}

// insert builds an insert change of src's columns with vals in order.
func insert(src []Column, vals ...change.Value) *change.Change {
	c := &change.Change{Op: change.OpInsert, Table: blueT, After: vals}
	for _, s := range src {
		c.Columns = append(c.Columns, change.Column{Name: s.Name, Type: s.Type, Key: s.Key})
	}
	return c
}

// get returns column name of the mapped after image.
func get(t *testing.T, c change.Change, name string) change.Value {
	t.Helper()
	for i, col := range c.Columns {
		if col.Name == name {
			return c.After[i]
		}
	}
	t.Fatalf("mapped change has no column %q (has %v)", name, c.Columns)
	return change.Value{}
}

func TestRenameAndSplitJoinRoundTrip(t *testing.T) {
	blue := cols("id:integer:key", "email:text", "name:text")
	green := cols("id:bigint:key", "email_address:text", "first_name:text", "last_name:text:notnull")
	toGreen := mustCompile(t, Rule{
		Rename: map[string]string{"email": "email_address"},
		Set: map[string]string{
			"first_name": `split_part(name, " ", 0)`,
			"last_name":  `trim(join(split(name, " ")[1:], " "))`,
		},
	}, blue, green)
	toBlue := mustCompile(t, Rule{Source: greenT, Target: blueT,
		Rename: map[string]string{"email_address": "email"},
		Set:    map[string]string{"name": `trim(first_name + " " + last_name)`},
	}, green, blue)

	in := insert(blue, change.Int(7), change.Text("ada@example.com"), change.Text("Ada King Lovelace"))
	g, err := toGreen.Map(in)
	if err != nil {
		t.Fatal(err)
	}
	if g.Table != greenT || !change.Equal(get(t, g, "id"), change.Int(7)) || !change.Equal(get(t, g, "email_address"), change.Text("ada@example.com")) ||
		!change.Equal(get(t, g, "first_name"), change.Text("Ada")) || !change.Equal(get(t, g, "last_name"), change.Text("King Lovelace")) {
		t.Fatalf("blue → green: %+v", g)
	}
	b, err := toBlue.Map(&g)
	if err != nil {
		t.Fatal(err)
	}
	if !change.Equal(get(t, b, "name"), change.Text("Ada King Lovelace")) || !change.Equal(get(t, b, "email"), change.Text("ada@example.com")) {
		t.Errorf("green → blue did not return the original: %+v", b)
	}
}

func TestCentsAndNumeric(t *testing.T) {
	blue := cols("id:integer:key", "price_cents:integer")
	green := cols("id:integer:key", "price:numeric(12,2)")
	toGreen := mustCompile(t, Rule{Set: map[string]string{"price": `unscaled(price_cents, 2)`}, Drop: []string{"price_cents"}}, blue, green)
	toBlue := mustCompile(t, Rule{Source: greenT, Target: blueT, Set: map[string]string{"price_cents": `scaled(price, 2)`}, Drop: []string{"price"}}, green, blue)
	for _, cents := range []int64{0, 1, 1999, -250, 123456789012} {
		g, err := toGreen.Map(insert(blue, change.Int(1), change.Int(cents)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := toBlue.Map(&g)
		if err != nil {
			t.Fatal(err)
		}
		if !change.Equal(get(t, b, "price_cents"), change.Int(cents)) {
			t.Errorf("%d cents → %v → %v", cents, get(t, g, "price"), get(t, b, "price_cents"))
		}
	}
	if g, _ := toGreen.Map(insert(blue, change.Int(1), change.Int(1999))); !change.Equal(get(t, g, "price"), change.Numeric("19.99")) {
		t.Errorf("1999 cents = %v, want 19.99", get(t, g, "price"))
	}
	// A price with a third decimal has no exact cents: an error naming the column.
	_, err := toBlue.Map(insert(green, change.Int(1), change.Numeric("1.005")))
	var re *RowError
	if !errors.As(err, &re) || re.Column != "price_cents" || !strings.Contains(err.Error(), "scaled(price, 2)") {
		t.Errorf("1.005 → cents: %v", err)
	}
}

func TestJSONTextAndTimestamps(t *testing.T) {
	blue := cols("id:integer:key", "attrs:text", "seen:timestamp without time zone", "day:date")
	green := cols("id:integer:key", "attrs:jsonb", "seen:timestamp with time zone", "day:timestamp with time zone")
	m := mustCompile(t, Rule{Zone: "Europe/Paris"}, blue, green)
	// 2026-07-01 12:00 wall clock in Paris (UTC+2) = 10:00 UTC.
	wall := change.Timestamp(836222400_000000 + 12*3600_000000)
	g, err := m.Map(insert(blue, change.Int(1), change.Text(`{"b":1,"a":[2]}`), wall, change.Date(9678)))
	if err != nil {
		t.Fatal(err)
	}
	if !change.Equal(get(t, g, "attrs"), change.JSON(`{"b":1,"a":[2]}`)) { // the target stores it as jsonb
		t.Errorf("attrs %v", get(t, g, "attrs"))
	}
	// An update's images are compared with the target's row: as jsonb prints them.
	row := change.Row{change.Int(1), change.Text(`{"b":1,"a":[2]}`), wall, change.Date(9678)}
	upd := insert(blue, row...)
	upd.Op, upd.Before = change.OpUpdate, row
	u, err := m.Map(upd)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []change.Row{u.Before, u.After} {
		if !change.Equal(img[1], change.JSON(`{"a": [2], "b": 1}`)) {
			t.Errorf("update image attrs %v, want jsonb's form", img[1])
		}
	}
	if got := get(t, g, "seen"); !change.Equal(got, change.TimestampTZ(836222400_000000+10*3600_000000)) {
		t.Errorf("seen %v, want 10:00 UTC", got)
	}
	if _, err := m.Map(insert(blue, change.Int(1), change.Text(`{not json`), wall, change.Date(0))); err == nil ||
		!strings.Contains(err.Error(), "column attrs") {
		t.Errorf("text that is not JSON: %v", err)
	}
	back := mustCompile(t, Rule{Source: greenT, Target: blueT, Zone: "Europe/Paris"},
		cols("id:integer:key", "attrs:jsonb", "seen:timestamp with time zone"), cols("id:integer:key", "attrs:text", "seen:timestamp without time zone"))
	b, err := back.Map(&change.Change{Op: change.OpInsert, Table: greenT, Columns: []change.Column{{Name: "id"}, {Name: "attrs"}, {Name: "seen"}},
		After: change.Row{change.Int(1), change.JSON(`{"a": [2], "b": 1}`), change.TimestampTZ(836222400_000000 + 10*3600_000000)}})
	if err != nil {
		t.Fatal(err)
	}
	if !change.Equal(get(t, b, "seen"), wall) || !change.Equal(get(t, b, "attrs"), change.Text(`{"a": [2], "b": 1}`)) {
		t.Errorf("green → blue: %+v", b)
	}
}

func TestUnsentInputsStayUnsent(t *testing.T) {
	blue := cols("id:integer:key", "name:text", "note:text")
	green := cols("id:integer:key", "first_name:text", "note:text")
	m := mustCompile(t, Rule{Set: map[string]string{"first_name": `split_part(name, " ", 0)`}}, blue, green)
	c := insert(blue, change.Int(1), change.Unchanged(), change.Text("n"))
	c.Op = change.OpUpdate
	c.Before = change.Row{change.Int(1), change.Absent(), change.Absent()}
	g, err := m.Map(c)
	if err != nil {
		t.Fatal(err)
	}
	if get(t, g, "first_name").Kind != change.KindUnchanged || g.Before[1].Kind != change.KindAbsent || !change.Equal(g.Before[0], change.Int(1)) {
		t.Errorf("unsent inputs: after %v before %v", g.After, g.Before)
	}
}

func TestDroppedColumnIsLeftOut(t *testing.T) {
	// green dropped legacy: green → blue does not write it, so blue keeps
	// its value on update and gets the default on insert.
	green := cols("id:integer:key", "v:text")
	blue := cols("id:integer:key", "v:text", "legacy:text")
	m := mustCompile(t, Rule{Source: greenT, Target: blueT}, green, blue)
	b, err := m.Map(insert(green, change.Int(1), change.Text("x")))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Columns) != 2 || b.Columns[1].Name != "v" {
		t.Errorf("mapped columns %v, want id, v", b.Columns)
	}
	// blue → green must say what happens to legacy.
	if _, probs := Compile(Rule{Source: blueT, Target: greenT}, blue, green); len(probs) != 1 || probs[0].Column != "legacy" {
		t.Errorf("an unplaced source column: %v", probs)
	}
	if _, probs := Compile(Rule{Source: blueT, Target: greenT, Drop: []string{"legacy"}}, blue, green); len(probs) != 0 {
		t.Errorf("dropped: %v", probs)
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	blue := cols("id:integer:key", "email:text", "name:text", "price:numeric(10,2)", "flag:boolean")
	green := cols("id:integer:key", "email_address:text", "first_name:text", "region:text:notnull", "price:integer", "flag:boolean")
	_, probs := Compile(Rule{Source: blueT, Target: greenT,
		Rename: map[string]string{"emial": "email_address"},              // 1: no such source column
		Set:    map[string]string{"first_name": `split(name, " ")[0] +`}, // 2: does not compile
		Drop:   []string{"flag", "nope"},                                 // 3: nope does not exist
		Zone:   "Mars/Olympus",                                           // 4: unknown zone
	}, blue, green)
	want := []string{`zone: unknown time zone "Mars/Olympus"`, `rename.emial: public.customers has no column "emial"`,
		`drop: public.customers has no column "nope"`, `set.first_name: expression`, `set.region: public.clients.region is NOT NULL`,
		`set.price: public.customers.price: a numeric(10,2) cannot be copied to a integer`,
		`drop: public.customers.email has no place on public.clients`}
	all := ""
	for _, p := range probs {
		all += p.String() + "\n"
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing problem %q in:\n%s", w, all)
		}
	}
	if len(probs) != 7 {
		t.Errorf("%d problems, want 7:\n%s", len(probs), all)
	}
}

func TestExpressionTypeAndKeyChecks(t *testing.T) {
	src := cols("id:integer:key", "code:text", "n:integer")
	_, probs := Compile(Rule{Source: blueT, Target: greenT, Set: map[string]string{"ok": `n > 3`, "id": `n * 2`}},
		src, cols("id:integer:key", "ok:integer", "code:text"))
	all := ""
	for _, p := range probs {
		all += p.String() + "\n"
	}
	if !strings.Contains(all, "set.ok: expression \"n > 3\" returns a bool, which a integer column cannot take") {
		t.Errorf("bool into integer not reported:\n%s", all)
	}
	if !strings.Contains(all, `key column "id" is computed from "n"`) {
		t.Errorf("key from a non-key column not reported:\n%s", all)
	}
}

func TestRuntimeErrorNamesTheExpression(t *testing.T) {
	blue := cols("id:integer:key", "attrs:text")
	green := cols("id:integer:key", "weight:integer")
	m := mustCompile(t, Rule{Set: map[string]string{"weight": `int(json_get(attrs, "w"))`}, Drop: []string{"attrs"}}, blue, green)
	if g, err := m.Map(insert(blue, change.Int(1), change.Text(`{"w": 12}`))); err != nil || !change.Equal(get(t, g, "weight"), change.Int(12)) {
		t.Fatalf("good row: %v %v", g, err)
	}
	_, err := m.Map(insert(blue, change.Int(2), change.Text(`{"w": "heavy"}`)))
	var re *RowError
	if !errors.As(err, &re) || re.Column != "weight" || re.Expr == "" {
		t.Fatalf("bad row: %v", err)
	}
	if !strings.Contains(err.Error(), `column weight = int(json_get(attrs, "w"))`) {
		t.Errorf("message: %v", err)
	}
}

func TestColumnsInAnotherOrder(t *testing.T) {
	blue := cols("id:integer:key", "email:text", "name:text")
	green := cols("id:integer:key", "email_address:text", "first_name:text")
	m := mustCompile(t, Rule{Rename: map[string]string{"email": "email_address"},
		Set: map[string]string{"first_name": `split_part(name, " ", 0)`}}, blue, green)
	if _, err := m.Map(insert(blue, change.Int(1), change.Text("a@x"), change.Text("Ada L"))); err != nil {
		t.Fatal(err)
	}
	// The next change lists the same columns in another order (the
	// source table was altered and its relation sent again).
	c := insert(cols("name:text", "id:integer:key", "email:text"), change.Text("Bo M"), change.Int(2), change.Text("b@x"))
	g, err := m.Map(c)
	if err != nil {
		t.Fatal(err)
	}
	if !change.Equal(get(t, g, "id"), change.Int(2)) || !change.Equal(get(t, g, "email_address"), change.Text("b@x")) ||
		!change.Equal(get(t, g, "first_name"), change.Text("Bo")) {
		t.Errorf("reordered columns mapped to %v", g.After)
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		a, b change.Value
		same bool
	}{
		{change.Numeric("12.50"), change.Numeric("12.5"), true},
		{change.Numeric("0012.00"), change.Int(12), true},
		{change.Numeric("-0.00"), change.Numeric("0"), true},
		{change.Numeric("0.10"), change.Numeric(".1"), true},
		{change.Numeric("12.51"), change.Numeric("12.5"), false},
		{change.JSON(`{"b": 1, "a": [1, 2]}`), change.JSON(`{"a":[1,2],"b":1}`), true},
		{change.JSON(`{"a": "x"}`), change.JSON(`{"a": "y"}`), false},
		{change.Null(), change.Text(`\N`), false},
		{change.Text("x"), change.Text("x"), true},
	} {
		if got := Canonical(tc.a) == Canonical(tc.b); got != tc.same {
			t.Errorf("Canonical(%v) = %q, Canonical(%v) = %q: same %v, want %v", tc.a, Canonical(tc.a), tc.b, Canonical(tc.b), got, tc.same)
		}
	}
}

func TestStoredForm(t *testing.T) {
	for _, tc := range []struct {
		in     change.Value
		pgType string
		want   change.Value
	}{
		{change.Numeric("12.5"), "numeric(12,2)", change.Numeric("12.50")},
		{change.Numeric("5"), "numeric(12,2)", change.Numeric("5.00")},
		{change.Numeric("0.125"), "numeric(12,2)", change.Numeric("0.13")},
		{change.Numeric("-0.125"), "numeric(12,2)", change.Numeric("-0.13")},
		{change.Numeric("7.5"), "numeric(10)", change.Numeric("8")},
		{change.Numeric("7.50"), "numeric", change.Numeric("7.50")},
		{change.JSON(`{"theme":"dark","n":1,"tags":["a","b"]}`), "jsonb", change.JSON(`{"n": 1, "tags": ["a", "b"], "theme": "dark"}`)},
		{change.JSON(`{"a":1,"a":2}`), "jsonb", change.JSON(`{"a": 2}`)},
		{change.JSON(`[1.50, 1e2, 1.5e-3, -0, "x\"\n\u00e9"]`), "jsonb", change.JSON(`[1.50, 100, 0.0015, 0, "x\"\né"]`)},
		{change.JSON(`{"b":1, "a":2}`), "json", change.JSON(`{"b":1, "a":2}`)},
	} {
		got, err := storedForm(tc.in, tc.pgType)
		if err != nil || !change.Equal(got, tc.want) {
			t.Errorf("storedForm(%s, %s) = %s, %v; want %s", tc.in.S, tc.pgType, got.S, err, tc.want.S)
		}
	}
}

func TestHelpersPassNull(t *testing.T) {
	blue := cols("id:integer:key", "name:text", "price_cents:integer")
	green := cols("id:integer:key", "first_name:text", "price:numeric(12,2)")
	m := mustCompile(t, Rule{Drop: []string{"name", "price_cents"}, Set: map[string]string{
		"first_name": `split_part(name, " ", 0)`, "price": `unscaled(price_cents, 2)`}}, blue, green)
	g, err := m.Map(insert(blue, change.Int(1), change.Null(), change.Null()))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"first_name", "price"} {
		if v := get(t, g, c); v.Kind != change.KindNull {
			t.Errorf("%s from NULL = %v, want NULL", c, v)
		}
	}
}

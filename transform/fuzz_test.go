package transform

import (
	"errors"
	"testing"

	"github.com/bgsync/bgsync/change"
)

// FuzzExpression: any expression text, and any row data, either fails to
// compile with a Problem or maps every row to a value or a *RowError —
// never a panic, never a silent nil error with a missing value.
func FuzzExpression(f *testing.F) {
	for _, seed := range []struct {
		code, text string
		n          int64
	}{
		{`split_part(s, " ", 0)`, "Ada Lovelace", 1},
		{`int(json_get(s, "a.0"))`, `{"a":[3]}`, 0},
		{`scaled(decimal(s), 2)`, "12.345", 7},
		{`unscaled(n, 3)`, "", -9223372036854775808},
		{`coalesce(nil, s)`, "x", 0},
		{`s[n:]`, "abc", 5},
		{`fromJSON(s).k`, `{"k": true}`, 1},
		{`in_zone(date(s), "UTC")`, "2026-11-24", 0},
		{`1 / n`, "", 0},
	} {
		f.Add(seed.code, seed.text, seed.n)
	}
	src := cols("id:integer:key", "s:text", "n:bigint")
	f.Fuzz(func(t *testing.T, code, text string, n int64) {
		for _, typ := range []string{"text", "integer", "numeric(12,2)", "jsonb", "timestamp with time zone", "boolean"} {
			dst := []Column{{Name: "id", Type: "integer", Key: true, NotNull: true}, {Name: "out", Type: typ}}
			m, probs := Compile(Rule{Source: blueT, Target: greenT, Set: map[string]string{"out": code}, Drop: []string{"s", "n"}}, src, dst)
			if m == nil {
				if len(probs) == 0 {
					t.Fatalf("%q → %s: no mapping and no problem", code, typ)
				}
				continue
			}
			c, err := m.NewMapper().Map(insert(src, change.Int(1), change.Text(text), change.Int(n)))
			if err != nil {
				var re *RowError
				if !errors.As(err, &re) || re.Column != "out" {
					t.Fatalf("%q → %s: error %v is not a RowError naming the column", code, typ, err)
				}
				continue
			}
			if len(c.After) != 2 || c.After[1].Kind == change.KindAbsent || c.After[1].Kind == change.KindUnchanged {
				t.Fatalf("%q → %s: mapped row %v", code, typ, c.After)
			}
		}
	})
}

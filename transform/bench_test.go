package transform

import (
	"testing"

	"github.com/bgsync/bgsync/change"
)

// BenchmarkMap: ns per row of the transform step, for a rename only and
// for the split and JSON transforms of the acceptance cases.
func BenchmarkMap(b *testing.B) {
	blue := cols("id:integer:key", "email:text", "name:text", "attrs:text")
	row := insert(blue, change.Int(42), change.Text("ada@example.com"), change.Text("Ada King Lovelace"), change.Text(`{"w": 12, "tags": ["a"]}`))
	for _, tc := range []struct {
		name  string
		rule  Rule
		green []Column
	}{
		{"rename", Rule{Rename: map[string]string{"email": "email_address"}},
			cols("id:integer:key", "email_address:text", "name:text", "attrs:text")},
		{"split+json", Rule{Rename: map[string]string{"email": "email_address"}, Drop: []string{"name"},
			Set: map[string]string{"first_name": `split_part(name, " ", 0)`, "last_name": `trim(join(split(name, " ")[1:], " "))`}},
			cols("id:integer:key", "email_address:text", "first_name:text", "last_name:text", "attrs:jsonb")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := mustCompile(b, tc.rule, blue, tc.green)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Map(row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

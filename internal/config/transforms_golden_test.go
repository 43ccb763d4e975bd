package config_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/internal/config"
	"github.com/bgsync/bgsync/transform"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current code")

// transformsDir holds the worked transform examples, one case per file.
var transformsDir = filepath.Join(configsDir, "transforms")

// The cases configs/transforms/ must cover (README and
// bgsync.example.yaml point at them).
var transformExamples = []string{
	"rename-column.yaml", "split-column.yaml", "new-not-null-column.yaml", "cents-to-numeric.yaml",
	"text-to-jsonb.yaml", "rename-table.yaml", "dropped-column.yaml", "dead-letter.yaml",
}

// TestTransformExamples loads every configs/transforms/*.yaml as
// TestShippedConfigs loads configs/*.yaml (which does not descend into
// subdirectories), renders each table's resolved transform rules, and
// compares them with testdata/transforms/<name>.golden. It also compiles
// each rule against the v1 and v2 DDL in the file's comment header, so an
// example that does not fit the schemas it documents fails here, without
// a database (integration's TestTransformExamplesLive does the same
// against PostgreSQL). -update rewrites the golden files.
func TestTransformExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(transformsDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range transformExamples {
		if !containsBase(files, want) {
			t.Errorf("configs/transforms/%s is missing", want)
		}
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := config.ParseEnv(data, file, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.TableList) == 0 {
				t.Fatal("no tables")
			}
			got := renderRules(c)
			golden := filepath.Join("testdata", "transforms", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/config -run TestTransformExamples -update)", err)
			}
			if got != string(want) {
				t.Errorf("resolved rules differ from %s (-update rewrites it):\n--- got ---\n%s--- want ---\n%s", golden, got, want)
			}
			compileAgainstHeader(t, c, string(data))
		})
	}
}

// renderRules writes every table's names on both sides, on_error and the
// rule of each direction (as TransformRule resolves it) in a stable text.
func renderRules(c *config.Config) string {
	var b strings.Builder
	for i, tb := range c.TableList {
		blue, err1 := tb.On(config.Blue)
		green, err2 := tb.On(config.Green)
		if err1 != nil || err2 != nil {
			fmt.Fprintf(&b, "tables[%d]: bad name: %v %v\n", i, err1, err2)
			continue
		}
		fmt.Fprintf(&b, "tables[%d] blue %s, green %s\n", i, blue, green)
		fmt.Fprintf(&b, "  on_error: %s\n", c.OnErrorOf(i))
		for _, from := range []config.Side{config.Blue, config.Green} {
			r := c.TransformRule(i, from)
			fmt.Fprintf(&b, "  %s_to_%s: %s → %s\n", from, from.Other(), r.Source, r.Target)
			for _, k := range sortedKeys(r.Rename) {
				fmt.Fprintf(&b, "    rename %s → %s\n", k, r.Rename[k])
			}
			for _, k := range sortedKeys(r.Set) {
				fmt.Fprintf(&b, "    set %s = %s\n", k, r.Set[k])
			}
			for _, d := range r.Drop {
				fmt.Fprintf(&b, "    drop %s\n", d)
			}
			zone := r.Zone
			if zone == "" {
				zone = "UTC (default)"
			}
			fmt.Fprintf(&b, "    zone %s\n", zone)
			if len(r.Rename)+len(r.Set)+len(r.Drop) == 0 {
				b.WriteString("    (copy by name)\n")
			}
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// compileAgainstHeader compiles every table's rule both ways against the
// columns of the CREATE TABLE statements under "# blue (v1):" and
// "# green (v2):" in the file's comments.
func compileAgainstHeader(t *testing.T, c *config.Config, text string) {
	t.Helper()
	cols := map[config.Side]map[string][]transform.Column{}
	for side, label := range map[config.Side]string{config.Blue: "# blue (v1):", config.Green: "# green (v2):"} {
		ddl := headerDDL(text, label)
		if ddl == "" {
			t.Fatalf("the comment header has no %q section with the schema's DDL", label)
		}
		tables, err := parseDDL(ddl)
		if err != nil {
			t.Fatalf("%s DDL in the header: %v", side, err)
		}
		cols[side] = tables
	}
	for i, tb := range c.TableList {
		for _, from := range []config.Side{config.Blue, config.Green} {
			r := c.TransformRule(i, from)
			src, dst := cols[from][r.Source.Name], cols[from.Other()][r.Target.Name]
			if src == nil || dst == nil {
				t.Errorf("tables[%d] (%s): the header's DDL has no table %s on %s or %s on %s",
					i, tb.Name, r.Source.Name, from, r.Target.Name, from.Other())
				continue
			}
			if _, probs := transform.Compile(r, src, dst); len(probs) > 0 {
				t.Errorf("%s does not compile against the header's DDL: %v", config.TransformKey(i, from), probs)
			}
		}
	}
}

// headerDDL returns the comment lines indented under label ("#   CREATE
// ..."), without the "#", joined.
func headerDDL(text, label string) string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(line) == label:
			in = true
		case in && strings.HasPrefix(line, "#   "):
			out = append(out, strings.TrimSpace(line[1:]))
		case in:
			return strings.Join(out, " ")
		}
	}
	return strings.Join(out, " ")
}

// parseDDL reads the simple CREATE TABLE statements of the examples:
// "CREATE TABLE t (col type [PRIMARY KEY] [NOT NULL] [DEFAULT x], ...);"
// with types written as format_type() writes them.
func parseDDL(ddl string) (map[string][]transform.Column, error) {
	out := map[string][]transform.Column{}
	for _, stmt := range strings.Split(ddl, ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		head, body, ok := strings.Cut(stmt, "(")
		f := strings.Fields(head)
		if !ok || len(f) != 3 || !strings.EqualFold(f[0]+" "+f[1], "CREATE TABLE") || !strings.HasSuffix(body, ")") {
			return nil, fmt.Errorf("not a CREATE TABLE statement: %s", stmt)
		}
		var cols []transform.Column
		for _, def := range splitTopLevel(strings.TrimSuffix(body, ")")) {
			words := strings.Fields(def)
			if len(words) < 2 {
				return nil, fmt.Errorf("bad column definition %q", def)
			}
			upper := strings.ToUpper(def)
			c := transform.Column{Name: words[0], Key: strings.Contains(upper, "PRIMARY KEY"),
				HasDefault: strings.Contains(upper, " DEFAULT ")}
			c.NotNull = c.Key || strings.Contains(upper, "NOT NULL")
			var typ []string
			for _, w := range words[1:] {
				if u := strings.ToUpper(w); u == "PRIMARY" || u == "NOT" || u == "DEFAULT" || u == "NULL" {
					break
				}
				typ = append(typ, w)
			}
			c.Type = strings.Join(typ, " ")
			cols = append(cols, c)
		}
		out[f[2]] = cols
	}
	return out, nil
}

// splitTopLevel splits s at commas outside parentheses.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

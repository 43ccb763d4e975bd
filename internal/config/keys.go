package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// indexKeys walks the YAML tree alongside the Go type t, recording the
// position of every key and list item in m and reporting every key t has
// no field for. Type mismatches are left to the decoder.
func indexKeys(node ast.Node, path string, t reflect.Type, m *meta, ps *problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := node.(type) {
	case *ast.AnchorNode:
		indexKeys(n.Value, path, t, m, ps)
	case *ast.TagNode:
		indexKeys(n.Value, path, t, m, ps)
	case *ast.MappingNode:
		for _, mv := range n.Values {
			indexMapValue(mv, path, t, m, ps)
		}
	case *ast.MappingValueNode:
		indexMapValue(n, path, t, m, ps)
	case *ast.SequenceNode:
		if t.Kind() != reflect.Slice {
			return
		}
		for i, v := range n.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if v == nil {
				continue
			}
			m.record(p, v.GetToken(), nil)
			indexKeys(v, p, t.Elem(), m, ps)
		}
	}
}

func indexMapValue(mv *ast.MappingValueNode, path string, t reflect.Type, m *meta, ps *problems) {
	if mv == nil || mv.Key == nil || mv.Key.IsMergeKey() {
		return
	}
	key := keyString(mv.Key)
	var elem reflect.Type
	switch t.Kind() {
	case reflect.Struct:
		fields := yamlFields(t)
		f, ok := fields[key]
		if !ok {
			// A key may be a value written in the wrong place: redact it.
			p := problemAt(mv.Key.GetToken(), path, "unknown key "+redactText(quote(key)))
			if s := suggest(key, fields); s != "" {
				p.Msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			ps.list = append(ps.list, p)
			return
		}
		elem = f.Type
	case reflect.Map:
		elem = t.Elem()
	default:
		return
	}
	p := childPath(path, key)
	if mv.Value == nil {
		m.record(p, mv.Key.GetToken(), nil)
		return
	}
	m.record(p, mv.Key.GetToken(), mv.Value.GetToken())
	indexKeys(mv.Value, p, elem, m, ps)
}

// keyString returns a mapping key's text.
func keyString(k ast.MapKeyNode) string {
	if s, ok := scalarNode(k).(*ast.StringNode); ok {
		return s.Value
	}
	if tok := k.GetToken(); tok != nil {
		return tok.Value
	}
	return k.String()
}

// yamlFields maps the YAML key names of struct t to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f
	}
	return fields
}

// suggest returns the known key closest to key if it is a likely typo.
func suggest(key string, known map[string]reflect.StructField) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, k := range names {
		if d := editDistance(strings.ToLower(key), k); d < bestDist && d < len(k) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

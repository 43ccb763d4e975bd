package config

import (
	"strings"

	"github.com/goccy/go-yaml/token"
)

// pos is a 1-based line and column in the config file.
type pos struct{ line, col int }

// meta records where a parsed Config's values came from.
type meta struct {
	source string
	// keys maps a key path to the position of its key (for list items, of
	// the item).
	keys map[string]pos
	// paths maps the position of a key or value token back to its path.
	paths map[pos]string
	// env maps a key path to the env var that overrode it.
	env map[string]string
}

func newMeta(source string) *meta {
	return &meta{
		source: source,
		keys:   map[string]pos{},
		paths:  map[pos]string{},
		env:    map[string]string{},
	}
}

// record notes that path's key is at key and its value at val (either
// may be nil).
func (m *meta) record(path string, key, val *token.Token) {
	if p, ok := tokenPos(key); ok {
		m.keys[path] = p
		m.paths[p] = path
	}
	if p, ok := tokenPos(val); ok {
		if _, taken := m.paths[p]; !taken {
			m.paths[p] = path
		}
	}
}

// locate returns the position of path's key, or of its nearest ancestor
// present in the file; 0, 0 if none is.
func (m *meta) locate(path string) (line, col int) {
	if m == nil {
		return 0, 0
	}
	for {
		if p, ok := m.keys[path]; ok {
			return p.line, p.col
		}
		if path == "" {
			return 0, 0
		}
		path = parentPath(path)
	}
}

// pathAt returns the key path whose key or value token is tok, "" if
// unknown.
func (m *meta) pathAt(tok *token.Token) string {
	p, ok := tokenPos(tok)
	if m == nil || !ok {
		return ""
	}
	return m.paths[p]
}

func tokenPos(tok *token.Token) (pos, bool) {
	if tok == nil || tok.Position == nil {
		return pos{}, false
	}
	return pos{tok.Position.Line, tok.Position.Column}, true
}

// envFor returns the env var that set path or one of its ancestors.
func (m *meta) envFor(path string) string {
	if m == nil {
		return ""
	}
	for {
		if e, ok := m.env[path]; ok {
			return e
		}
		if path == "" {
			return ""
		}
		path = parentPath(path)
	}
}

func (m *meta) sourceName() string {
	if m == nil {
		return ""
	}
	return m.source
}

// parentPath strips the last element from a key path:
// "tables[2].name" → "tables[2]" → "tables" → "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// childPath joins a key to a key path.
func childPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

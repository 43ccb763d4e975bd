package mysql

import (
	"strings"

	"github.com/bgsync/bgsync/change"
)

// ddlKind is what a statement does to the tables it names.
type ddlKind uint8

const (
	ddlNone     ddlKind = iota // not DDL on tables (or not one we track)
	ddlTruncate                // TRUNCATE [TABLE] t
	ddlChange                  // ALTER / DROP / RENAME / CREATE TABLE
	ddlDropDB                  // DROP DATABASE db: Tables hold {Schema: db}
)

// ddl is a parsed DDL statement.
type ddl struct {
	kind   ddlKind
	tables []change.Table
}

// parseDDL recognises the statements that change a table's shape or
// contents outside row events. defaultDB qualifies unqualified names.
// Anything else (DML logged as a statement, CREATE/DROP INDEX, views,
// users, temporary tables) is ddlNone.
func parseDDL(query, defaultDB string) ddl {
	p := &ddlParser{toks: tokenize(query, 24), db: defaultDB}
	switch {
	case p.kw("ALTER"):
		p.kw("ONLINE")
		p.kw("IGNORE")
		if !p.kw("TABLE") {
			return ddl{}
		}
		p.ifExists()
		return p.names(ddlChange, false)
	case p.kw("DROP"):
		if p.kw("DATABASE") || p.kw("SCHEMA") {
			p.ifExists()
			if db, ok := p.ident(); ok {
				return ddl{kind: ddlDropDB, tables: []change.Table{{Schema: db}}}
			}
			return ddl{}
		}
		if p.kw("TEMPORARY") || !p.kw("TABLE") && !p.kw("TABLES") {
			return ddl{}
		}
		p.ifExists()
		return p.names(ddlChange, true)
	case p.kw("RENAME"):
		if !p.kw("TABLE") && !p.kw("TABLES") {
			return ddl{}
		}
		return p.renames()
	case p.kw("TRUNCATE"):
		p.kw("TABLE")
		return p.names(ddlTruncate, false)
	case p.kw("CREATE"):
		if p.kw("OR") && !p.kw("REPLACE") {
			return ddl{}
		}
		if p.kw("TEMPORARY") || !p.kw("TABLE") {
			return ddl{}
		}
		p.ifNotExists()
		return p.names(ddlChange, false)
	}
	return ddl{}
}

type ddlParser struct {
	toks []string
	i    int
	db   string
}

func (p *ddlParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

// kw consumes the keyword w (case-insensitive) if it is next.
func (p *ddlParser) kw(w string) bool {
	t := p.peek()
	if len(t) > 0 && t[0] != '`' && strings.EqualFold(t, w) {
		p.i++
		return true
	}
	return false
}

func (p *ddlParser) ifExists() {
	if p.kw("IF") {
		p.kw("EXISTS")
	}
}

func (p *ddlParser) ifNotExists() {
	if p.kw("IF") {
		p.kw("NOT")
		p.kw("EXISTS")
	}
}

// ident consumes an identifier, unquoting a backquoted one.
func (p *ddlParser) ident() (string, bool) {
	t := p.peek()
	if t == "" {
		return "", false
	}
	if t[0] == '`' {
		p.i++
		return strings.ReplaceAll(t[1:len(t)-1], "``", "`"), true
	}
	if !isIdentByte(t[0]) {
		return "", false
	}
	p.i++
	return t, true
}

// name consumes [db.]table.
func (p *ddlParser) name() (change.Table, bool) {
	a, ok := p.ident()
	if !ok {
		return change.Table{}, false
	}
	if p.peek() == "." {
		p.i++
		b, ok := p.ident()
		if !ok {
			return change.Table{}, false
		}
		return change.Table{Schema: a, Name: b}, true
	}
	return change.Table{Schema: p.db, Name: a}, true
}

// names reads one table name, or a comma-separated list when list is set.
func (p *ddlParser) names(kind ddlKind, list bool) ddl {
	var d ddl
	for {
		t, ok := p.name()
		if !ok {
			break
		}
		d.tables = append(d.tables, t)
		if !list || p.peek() != "," {
			break
		}
		p.i++
	}
	if len(d.tables) > 0 {
		d.kind = kind
	}
	return d
}

// renames reads "a TO b [, c TO d ...]": every name is affected.
func (p *ddlParser) renames() ddl {
	var d ddl
	for {
		from, ok := p.name()
		if !ok || !p.kw("TO") {
			break
		}
		to, ok := p.name()
		if !ok {
			break
		}
		d.tables = append(d.tables, from, to)
		if p.peek() != "," {
			break
		}
		p.i++
	}
	if len(d.tables) > 0 {
		d.kind = ddlChange
	}
	return d
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// tokenize splits the first max tokens of a statement: words, backquoted
// identifiers (quotes kept), quoted strings, and single punctuation bytes.
// Comments are skipped; the bodies of executable comments (/*! ... */,
// /*M! ... */) are read as statement text, as the server does.
func tokenize(s string, max int) []string {
	var toks []string
	for i := 0; i < len(s) && len(toks) < max; {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#' || c == '-' && strings.HasPrefix(s[i:], "-- "):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*!") || strings.HasPrefix(s[i:], "/*M!"):
			i += strings.IndexByte(s[i:], '!') + 1
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return toks
			}
			i += end + 4
		case strings.HasPrefix(s[i:], "*/"): // end of an executable comment
			i += 2
		case c == '`' || c == '\'' || c == '"':
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return toks // unterminated
			}
			tok := s[i : j+1]
			if c == '"' { // ANSI_QUOTES identifier, or a string no name position takes
				tok = "`" + strings.ReplaceAll(tok[1:len(tok)-1], "`", "``") + "`"
			}
			toks = append(toks, tok)
			i = j + 1
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			toks = append(toks, s[i:i+1])
			i++
		}
	}
	return toks
}

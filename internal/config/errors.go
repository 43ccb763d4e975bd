package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is every error Load, Parse and Validate return: the file could not
// be read, is not valid YAML, has unknown keys or wrong types, or fails
// validation. The CLI recognises it with errors.As and exits with code 2.
//
// Its text never contains a DSN password.
type Error struct {
	// Source names the file ("configs/bgsync.yaml"); may be empty.
	Source string
	// Problems lists everything found, in file order where known; never
	// empty.
	Problems []Problem
	// Err is the underlying cause when the file could not be read.
	Err error
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Path is the key path, e.g. "tables[2].name" or "blue.dsn"; empty for
	// the document as a whole.
	Path string
	// Line and Column locate the key (or value) in the file, 1-based; 0 if
	// unknown (a Config built in Go, a value set by an env var).
	Line, Column int
	// Msg says what is wrong and, where it helps, how to fix it.
	Msg string
}

// format formats p as "source:line: path: msg", leaving out what is unknown.
func (p Problem) format(source string) string {
	var b strings.Builder
	switch {
	case source != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", source, p.Line)
	case source != "":
		b.WriteString(source + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

func (p Problem) String() string { return p.format("") }

func (e *Error) Error() string {
	src := e.Source
	if src == "" {
		src = "config"
	}
	switch {
	case len(e.Problems) == 1:
		return e.Problems[0].format(e.Source)
	case len(e.Problems) == 0 && e.Err != nil:
		return src + ": " + redactText(e.Err.Error())
	case len(e.Problems) == 0:
		return src + ": invalid configuration"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", src, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.format(e.Source))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// problems collects Problems, locating paths through a Config's meta.
type problems struct {
	meta *meta
	list []Problem
}

// add records a problem about path, with its line when known and the env
// var that set it when one did.
func (ps *problems) add(path, format string, args ...any) {
	p := Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
	if env := ps.meta.envFor(path); env != "" {
		p.Msg += " (set by " + env + ")"
	} else {
		p.Line, p.Column = ps.meta.locate(path)
	}
	ps.list = append(ps.list, p)
}

// err returns the problems as an *Error, or nil if there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &Error{Source: ps.meta.sourceName(), Problems: ps.list}
}

func quote(s string) string { return strconv.Quote(s) }

// Problem returns a config Error about the key at path, located at its
// line in the file when known: for problems found later, against the live
// databases (a timestamp_column the table does not have).
func (c *Config) Problem(path, format string, args ...any) *Error {
	ps := &problems{meta: c.meta}
	ps.add(path, format, args...)
	e := ps.err().(*Error)
	return e
}

// Source names the file the config was read from ("" for one built in Go).
func (c *Config) Source() string { return c.meta.sourceName() }

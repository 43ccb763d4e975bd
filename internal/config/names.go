package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bgsync/bgsync/change"
)

// Side is one of the two databases.
type Side string

const (
	Blue  Side = "blue"
	Green Side = "green"
)

// Other returns the opposite side.
func (s Side) Other() Side {
	if s == Blue {
		return Green
	}
	return Blue
}

// MaxNameLen bounds Config.Name so that the longest identifier bgsync
// derives from it stays well under PostgreSQL's 63-byte limit.
const MaxNameLen = 40

// maxIdentLen is PostgreSQL's identifier limit (NAMEDATALEN - 1).
const maxIdentLen = 63

// TableRef is a schema-qualified table name.
type TableRef = change.Table

// DefaultSchema is the schema of a table named without one.
const DefaultSchema = "public"

// name returns the effective Name.
func (c *Config) name() string {
	if c.Name == "" {
		return DefaultName
	}
	return c.Name
}

// SlotName returns the name of the logical replication slot bgsync reads
// on side, e.g. "bgsync_blue". The side is part of the name because slots
// are per cluster and blue and green may share one.
func (c *Config) SlotName(side Side) string { return c.name() + "_" + string(side) }

// PublicationName returns the name of the publication bgsync creates on
// each side, e.g. "bgsync".
func (c *Config) PublicationName() string { return c.name() }

// TopicName returns the Kafka topic carrying the changes captured on side,
// e.g. "bgsync.blue".
func (c *Config) TopicName(side Side) string { return c.topicPrefix() + "." + string(side) }

// topicPrefix is the effective Kafka.TopicPrefix.
func (c *Config) topicPrefix() string {
	if c.Kafka.TopicPrefix == "" {
		return c.name()
	}
	return c.Kafka.TopicPrefix
}

// DeadLetterTopic is the topic rows a transform could not map are copied
// to (tables with on_error: dead-letter), e.g. "bgsync.dead_letters".
func (c *Config) DeadLetterTopic() string { return c.topicPrefix() + ".dead_letters" }

// Tables returns the synced tables by their names on blue, in config
// order (TablesOn gives either side's). Names that do not parse are left
// out (Validate reports them).
func (c *Config) Tables() []TableRef { return c.TablesOn(Blue) }

// ParseTableName parses "schema.table" or "table" (schema public) with
// PostgreSQL's rules: unquoted parts fold to lower case, double-quoted
// parts keep case and may hold any character ("" is a quote).
func ParseTableName(s string) (TableRef, error) {
	var parts []string
	rest := strings.TrimSpace(s)
	if rest == "" {
		return TableRef{}, fmt.Errorf("empty table name")
	}
	if !utf8.ValidString(rest) {
		return TableRef{}, fmt.Errorf("table name is not valid UTF-8")
	}
	for {
		part, tail, err := parseIdent(rest)
		if err != nil {
			return TableRef{}, err
		}
		parts = append(parts, part)
		if tail == "" {
			break
		}
		if tail[0] != '.' {
			return TableRef{}, fmt.Errorf("unexpected %q after %q; double-quote names with special characters", tail, part)
		}
		rest = tail[1:]
	}
	switch len(parts) {
	case 1:
		return TableRef{Schema: DefaultSchema, Name: parts[0]}, nil
	case 2:
		return TableRef{Schema: parts[0], Name: parts[1]}, nil
	}
	return TableRef{}, fmt.Errorf("too many dots in %q; write schema.table", s)
}

// parseIdent reads one identifier from the start of s.
func parseIdent(s string) (ident, rest string, err error) {
	if s == "" || s[0] == '.' {
		return "", "", fmt.Errorf("empty name part")
	}
	if s[0] == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] != '"' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			return checkIdent(b.String(), s[i+1:])
		}
		return "", "", fmt.Errorf("unterminated quoted name %s", s)
	}
	end := strings.IndexByte(s, '.')
	if end < 0 {
		end = len(s)
	}
	ident = s[:end]
	for i, r := range ident {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && (r == '$' || unicode.IsDigit(r))) {
			return "", "", fmt.Errorf("invalid character %q in %q; double-quote names with special characters", r, ident)
		}
	}
	return checkIdent(lowerASCII(ident), s[end:]) // PostgreSQL folds only A-Z
}

func checkIdent(ident, rest string) (string, string, error) {
	switch {
	case ident == "":
		return "", "", fmt.Errorf("empty quoted name")
	case len(ident) > maxIdentLen:
		return "", "", fmt.Errorf("name %q is longer than %d bytes", ident, maxIdentLen)
	case strings.IndexByte(ident, 0) >= 0:
		return "", "", fmt.Errorf("name contains a NUL byte")
	}
	return ident, rest, nil
}

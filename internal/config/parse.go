package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Load reads the config file at path and returns it as Parse does. Errors
// are *Error and name path.
func Load(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, &Error{
			Source:   path,
			Problems: []Problem{{Msg: "cannot read config file: " + pathErrCause(err).Error()}},
			Err:      err,
		}
	}
	return Parse(data, path)
}

// readConfigFile reads path, at most MaxFileSize+1 bytes of it (decode
// reports the excess).
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

// Parse decodes a config file's contents strictly, applies the BGSYNC_*
// env overrides and the defaults, and validates the result. source names
// the file in error messages ("bgsync.yaml:7: ..."); it may be empty.
// Every error is an *Error.
func Parse(data []byte, source string) (*Config, error) {
	return parse(data, source, os.LookupEnv)
}

// parse is Parse with the environment injected.
func parse(data []byte, source string, lookupEnv func(string) (string, bool)) (*Config, error) {
	c, err := decode(data, source)
	if err != nil {
		return nil, err
	}
	c.applyEnv(lookupEnv)
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// MaxFileSize bounds a config file. Real ones are a few KiB; the cap keeps
// a runaway file (the YAML parser is quadratic in nesting depth) from
// stalling startup.
const MaxFileSize = 1 << 20

// decode parses data into a Config without env, defaults or validation.
// Syntax errors, unknown keys (all of them) and type mismatches (the
// first) are reported with their lines.
func decode(data []byte, source string) (c *Config, err error) {
	m := newMeta(source)
	ps := &problems{meta: m}
	if len(data) > MaxFileSize {
		ps.list = append(ps.list, Problem{Msg: fmt.Sprintf("config is larger than %d bytes", MaxFileSize)})
		return nil, ps.err()
	}
	// Bad input must become an error, not a crash, even if the YAML
	// library has a bug.
	defer func() {
		if r := recover(); r != nil {
			ps.list = append(ps.list, Problem{Msg: "invalid YAML: the parser failed: " + redactText(fmt.Sprint(r))})
			c, err = nil, ps.err()
		}
	}()
	c = &Config{meta: m}

	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		ps.list = append(ps.list, yamlProblem(err, m))
		return nil, ps.err()
	}
	body := documentBody(file, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	if body == nil {
		return c, nil
	}
	indexKeys(body, "", reflect.TypeFor[Config](), m, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	if err := yaml.NodeToValue(body, c, yaml.Strict()); err != nil {
		ps.list = append(ps.list, yamlProblem(err, m))
		return nil, ps.err()
	}
	c.meta = m
	return c, nil
}

// documentBody returns the top-level mapping of the single document in
// file, nil for an empty file; it reports more documents or a top level
// that is not a mapping.
func documentBody(file *ast.File, ps *problems) ast.Node {
	var body ast.Node
	for i, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if i > 0 {
			ps.list = append(ps.list, problemAt(doc.Body.GetToken(), "", "a config file holds one YAML document; remove this one or the \"---\" before it"))
			return nil
		}
		body = doc.Body
	}
	if body == nil {
		return nil
	}
	switch scalarNode(body).(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return body
	case *ast.NullNode:
		return nil
	}
	ps.list = append(ps.list, problemAt(body.GetToken(), "", "expected a mapping of keys (name:, blue:, ...), got "+describeNode(body)))
	return nil
}

// duplicateKeyRE matches the parser's message for a repeated key.
var duplicateKeyRE = regexp.MustCompile(`^mapping key (".*") already defined at \[(\d+):\d+\]$`)

// yamlProblem turns an error from the YAML parser or decoder into a
// Problem with its position and key path. Library messages may quote
// input, so they are redacted.
func yamlProblem(err error, m *meta) Problem {
	var ne *nodeError
	if errors.As(err, &ne) {
		return problemAt(ne.tok, m.pathAt(ne.tok), ne.msg)
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msg := fmt.Sprintf("expected %s, got %s", describeType(te.DstType), describeType(te.SrcType))
		return problemAt(te.Token, m.pathAt(te.Token), msg)
	}
	var ue *yaml.UnexpectedNodeTypeError
	if errors.As(err, &ue) {
		msg := fmt.Sprintf("expected %s, got %s", describeNodeType(ue.Expected), describeNodeType(ue.Actual))
		return problemAt(ue.Token, m.pathAt(ue.Token), msg)
	}
	var oe *yaml.OverflowError
	if errors.As(err, &oe) {
		return problemAt(oe.Token, m.pathAt(oe.Token), fmt.Sprintf("number %s is out of range", oe.SrcNum))
	}
	var se *yaml.SyntaxError
	if errors.As(err, &se) {
		if sm := duplicateKeyRE.FindStringSubmatch(se.Message); sm != nil {
			return problemAt(se.Token, "", fmt.Sprintf("duplicate key %s (first on line %s)", redactText(sm[1]), sm[2]))
		}
		return problemAt(se.Token, "", "invalid YAML: "+redactText(se.Message))
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		return problemAt(ye.GetToken(), m.pathAt(ye.GetToken()), redactText(ye.GetMessage()))
	}
	return Problem{Msg: redactText(err.Error())}
}

// problemAt builds a Problem located at tok.
func problemAt(tok *token.Token, path, msg string) Problem {
	p := Problem{Path: path, Msg: msg}
	if tok != nil && tok.Position != nil {
		p.Line, p.Column = tok.Position.Line, tok.Position.Column
	}
	return p
}

// describeType names the YAML shape a Go type is written as.
func describeType(t reflect.Type) string {
	if t == nil {
		return "null"
	}
	switch t {
	case reflect.TypeFor[Duration]():
		return `a duration such as "10ms"`
	case reflect.TypeFor[Brokers]():
		return `"embedded" or a list of host:port`
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return t.String()
}

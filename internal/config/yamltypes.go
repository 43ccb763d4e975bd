package config

import (
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// nodeError is a decode error that knows the YAML token it is about, so
// Parse can report its line and key path.
type nodeError struct {
	tok *token.Token
	msg string
}

func (e *nodeError) Error() string { return e.msg }

// scalarNode strips anchors and tags from n.
func scalarNode(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

// Duration is a time.Duration written as a Go duration string ("10ms",
// "1m30s"). A bare 0 is accepted; any other number needs a unit.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (d *Duration) UnmarshalYAML(node ast.Node) error {
	switch n := scalarNode(node).(type) {
	case *ast.NullNode:
		*d = 0
		return nil
	case *ast.StringNode:
		v, err := time.ParseDuration(strings.TrimSpace(n.Value))
		if err != nil {
			return &nodeError{n.GetToken(), "invalid duration " + quote(n.Value) + ` (use a unit: "10ms", "2s", "1m")`}
		}
		*d = Duration(v)
		return nil
	case *ast.IntegerNode:
		if n.GetToken().Value == "0" {
			*d = 0
			return nil
		}
		return &nodeError{n.GetToken(), "duration " + n.GetToken().Value + ` has no unit (write e.g. "10ms")`}
	}
	return &nodeError{node.GetToken(), "expected a duration such as \"10ms\", got " + describeNode(node)}
}

// EmbeddedBrokers is the Brokers value that selects the embedded broker.
const EmbeddedBrokers = "embedded"

// Brokers is the `kafka.brokers` value: "embedded", or host:port
// addresses written as a YAML list or a comma-separated string.
type Brokers []string

// Embedded reports whether b selects the embedded broker (b is empty or
// just "embedded").
func (b Brokers) Embedded() bool {
	return len(b) == 0 || (len(b) == 1 && b[0] == EmbeddedBrokers)
}

// Addrs returns the external broker addresses, nil when Embedded.
func (b Brokers) Addrs() []string {
	if b.Embedded() {
		return nil
	}
	return []string(b)
}

// UnmarshalYAML implements yaml.NodeUnmarshaler.
func (b *Brokers) UnmarshalYAML(node ast.Node) error {
	switch n := scalarNode(node).(type) {
	case *ast.NullNode:
		*b = nil
		return nil
	case *ast.StringNode:
		*b = splitList(n.Value)
		return nil
	case *ast.SequenceNode:
		out := make(Brokers, 0, len(n.Values))
		for _, v := range n.Values {
			s, ok := scalarNode(v).(*ast.StringNode)
			if !ok {
				return &nodeError{v.GetToken(), "expected a host:port string, got " + describeNode(v)}
			}
			out = append(out, strings.TrimSpace(s.Value))
		}
		*b = out
		return nil
	}
	return &nodeError{node.GetToken(), `expected "embedded" or a list of host:port, got ` + describeNode(node)}
}

// splitList splits a comma-separated list, trimming blanks around items.
// An empty string gives nil.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// describeNode names the YAML kind of n for error messages.
func describeNode(n ast.Node) string {
	if n == nil {
		return "nothing"
	}
	return describeNodeType(scalarNode(n).Type())
}

// describeNodeType names a YAML node type for error messages.
func describeNodeType(t ast.NodeType) string {
	switch t {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.StringType, ast.LiteralType:
		return "a string"
	case ast.IntegerType:
		return "an integer"
	case ast.FloatType, ast.InfinityType, ast.NanType:
		return "a number"
	case ast.BoolType:
		return "a boolean"
	case ast.NullType:
		return "null"
	case ast.AliasType:
		return "an alias"
	}
	return "a " + t.YAMLName()
}

package pgtext

import (
	"fmt"

	"github.com/bgsync/bgsync/change"
)

// PostgreSQL array literals: {1,2,NULL}, {{1,2},{3,4}}, {"a b","q\"x",""},
// {} for any empty array. Elements are separated by ',' (every type pgtext
// decomposes uses ','); a double-quoted element may contain anything, with
// \" and \\ escaped; an unquoted NULL (any case) is a NULL element.

// maxArrayDims is the deepest nesting accepted (PostgreSQL's MAXDIM is 6),
// matching change.MaxArrayDepth so every decoded array also encodes.
const maxArrayDims = change.MaxArrayDepth

func isArraySpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

type arrayParser struct {
	r     *Registry
	elem  uint32
	chain int
	s     []byte
	i     int
	buf   []byte // unescaped element, reused
}

func (r *Registry) decodeArray(elem uint32, text []byte, chain int) (change.Value, error) {
	p := arrayParser{r: r, elem: elem, chain: chain, s: text}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '[' {
		if err := p.bounds(); err != nil {
			return change.Value{}, err
		}
	}
	v, err := p.array(1)
	if err != nil {
		return change.Value{}, err
	}
	p.space()
	if p.i != len(p.s) {
		return change.Value{}, p.errorf("junk after the closing brace")
	}
	return v, nil
}

func (p *arrayParser) errorf(format string, args ...any) error {
	return fmt.Errorf("pgtext: decode array %s at byte %d: %s: %w", quote(p.s), p.i, fmt.Sprintf(format, args...), ErrSyntax)
}

func (p *arrayParser) space() {
	for p.i < len(p.s) && isArraySpace(p.s[p.i]) {
		p.i++
	}
}

// bounds skips a [lo:hi][lo:hi]= decoration, which PostgreSQL prints only
// when a lower bound is not 1. change.Value has no place for lower bounds, so
// anything but 1 is refused rather than silently renumbered.
func (p *arrayParser) bounds() error {
	for p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		lo, j, ok := signedDigits(p.s, p.i)
		if !ok || j >= len(p.s) || p.s[j] != ':' {
			return p.errorf("bad dimension decoration")
		}
		_, j, ok = signedDigits(p.s, j+1)
		if !ok || j >= len(p.s) || p.s[j] != ']' {
			return p.errorf("bad dimension decoration")
		}
		p.i = j + 1
		if lo != 1 {
			return fmt.Errorf("pgtext: decode array %s: lower bound %d: only 1-based arrays are supported: %w", quote(p.s), lo, ErrRange)
		}
	}
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		return p.errorf("missing '=' after dimensions")
	}
	p.i++
	p.space()
	return nil
}

func signedDigits(s []byte, i int) (int64, int, bool) {
	neg := i < len(s) && s[i] == '-'
	if neg || (i < len(s) && s[i] == '+') {
		i++
	}
	v, j, ok := digits(s, i, 1, 10)
	if neg {
		v = -v
	}
	return v, j, ok
}

// array parses {...} at the current position; level is its nesting depth.
func (p *arrayParser) array(level int) (change.Value, error) {
	if level > maxArrayDims {
		return change.Value{}, p.errorf("more than %d dimensions", maxArrayDims)
	}
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return change.Value{}, p.errorf("want '{'")
	}
	start := p.i
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return change.Array([]change.Value{}), nil
	}
	elems := make([]change.Value, 0, countElems(p.s, start))
	nested := false
	for {
		p.space()
		var e change.Value
		var err error
		sub := p.i < len(p.s) && p.s[p.i] == '{'
		if len(elems) == 0 {
			nested = sub
		} else if sub != nested {
			return change.Value{}, p.errorf("sub-arrays and elements mixed at one level")
		}
		if sub {
			e, err = p.array(level + 1)
		} else {
			e, err = p.element()
		}
		if err != nil {
			return change.Value{}, err
		}
		elems = append(elems, e)
		p.space()
		if p.i >= len(p.s) {
			return change.Value{}, p.errorf("unexpected end")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return change.Array(elems), nil
		default:
			return change.Value{}, p.errorf("want ',' or '}'")
		}
	}
}

// countElems counts the elements of the array whose '{' is at s[i], so that
// its slice is allocated once. It never exceeds len(s).
func countElems(s []byte, i int) int {
	depth, n, quoted := 0, 1, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '{':
			depth++
		case c == '}':
			if depth--; depth == 0 {
				return n
			}
		case c == ',' && depth == 1:
			n++
		}
	}
	return n
}

// element reads one quoted or unquoted element and decodes it.
func (p *arrayParser) element() (change.Value, error) {
	var text []byte
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.i++
		start, escaped := p.i, false
		for ; p.i < len(p.s) && p.s[p.i] != '"'; p.i++ {
			if p.s[p.i] == '\\' {
				escaped = true
				p.i++
			}
		}
		if p.i >= len(p.s) {
			return change.Value{}, p.errorf("unterminated quoted element")
		}
		text = p.s[start:p.i]
		p.i++
		if escaped {
			text = p.unescape(text)
		}
	} else {
		start, escaped, keep := p.i, false, p.i
		for ; p.i < len(p.s); p.i++ {
			c := p.s[p.i]
			if c == '\\' {
				escaped = true
				p.i++
				keep = p.i + 1 // an escaped character is never trimmed
				continue
			}
			if c == ',' || c == '}' || c == '{' || c == '"' {
				break
			}
		}
		if p.i > len(p.s) {
			p.i = len(p.s)
			return change.Value{}, p.errorf("backslash at end of input")
		}
		end := p.i
		for end > keep && isArraySpace(p.s[end-1]) {
			end--
		}
		text = p.s[start:end]
		if len(text) == 0 {
			return change.Value{}, p.errorf("empty unquoted element")
		}
		if !escaped && len(text) == 4 && isNULL(text) {
			return change.Null(), nil
		}
		if escaped {
			text = p.unescape(text)
		}
	}
	v, err := p.r.decode(p.elem, text, p.chain+1)
	if err != nil {
		return change.Value{}, fmt.Errorf("pgtext: decode array element: %w", err)
	}
	return v, nil
}

// unescape drops the backslashes of an element into the reused buffer. The
// element decoders copy what they keep, so reusing it is safe.
func (p *arrayParser) unescape(s []byte) []byte {
	p.buf = p.buf[:0]
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		p.buf = append(p.buf, s[i])
	}
	return p.buf
}

func isNULL(s []byte) bool {
	return len(s) == 4 && (s[0]|0x20) == 'n' && (s[1]|0x20) == 'u' && (s[2]|0x20) == 'l' && (s[3]|0x20) == 'l'
}

// appendArray writes v as an array literal with ',' delimiters.
func appendArray(dst []byte, v change.Value) ([]byte, error) {
	if err := checkShape(v); err != nil {
		return dst, err
	}
	return appendArrayLevel(dst, v)
}

func appendArrayLevel(dst []byte, v change.Value) ([]byte, error) {
	dst = append(dst, '{')
	for i, e := range v.Elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		switch e.Kind {
		case change.KindNull:
			dst = append(dst, "NULL"...)
			continue
		case change.KindArray:
			dst, err = appendArrayLevel(dst, e)
		default:
			start := len(dst)
			if dst, err = appendScalar(dst, e); err == nil {
				dst = quoteElement(dst, start)
			}
		}
		if err != nil {
			return dst, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return append(dst, '}'), nil
}

// checkShape refuses what PostgreSQL cannot store: a level mixing
// sub-arrays with other elements, sub-arrays of different lengths, nesting
// deeper than maxArrayDims.
func checkShape(v change.Value) error {
	var dims []int
	for e := v; e.Kind == change.KindArray; {
		dims = append(dims, len(e.Elems))
		if len(dims) > maxArrayDims {
			return fmt.Errorf("more than %d dimensions: %w", maxArrayDims, ErrRange)
		}
		if len(e.Elems) == 0 {
			break
		}
		e = e.Elems[0]
	}
	return checkDims(v, dims)
}

func checkDims(v change.Value, dims []int) error {
	if len(v.Elems) != dims[0] {
		return fmt.Errorf("sub-arrays of different lengths (%d and %d): %w", dims[0], len(v.Elems), ErrRange)
	}
	for _, e := range v.Elems {
		if (e.Kind == change.KindArray) != (len(dims) > 1) {
			return fmt.Errorf("sub-arrays and %s elements mixed at one level: %w", e.Kind, ErrRange)
		}
		if len(dims) > 1 {
			if err := checkDims(e, dims[1:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// needsQuote reports whether an element's text must be double-quoted: empty,
// NULL in any case, or holding whitespace, a quote, a backslash, a brace or
// a delimiter (',' and box[]'s ';').
func needsQuote(s []byte) bool {
	if len(s) == 0 || isNULL(s) {
		return true
	}
	for _, c := range s {
		switch c {
		case '"', '\\', '{', '}', ',', ';', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
	}
	return false
}

// quoteElement quotes dst[start:] in place when it needs quoting, escaping
// '"' and '\' with a backslash, without a temporary buffer.
func quoteElement(dst []byte, start int) []byte {
	el := dst[start:]
	if !needsQuote(el) {
		return dst
	}
	extra := 2
	for _, c := range el {
		if c == '"' || c == '\\' {
			extra++
		}
	}
	n := len(dst)
	for range extra {
		dst = append(dst, 0)
	}
	w := len(dst) - 1
	dst[w] = '"'
	w--
	for r := n - 1; r >= start; r-- {
		c := dst[r]
		dst[w] = c
		w--
		if c == '"' || c == '\\' {
			dst[w] = '\\'
			w--
		}
	}
	dst[w] = '"'
	return dst
}

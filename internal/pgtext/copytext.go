package pgtext

import (
	"fmt"

	"github.com/bgsync/bgsync/change"
)

// AppendCopyText appends v escaped as a field of COPY's text format:
// backslash, tab, newline and carriage return are backslashed, so the
// field never splits a line or a row.
func AppendCopyText[T ~string | ~[]byte](dst []byte, v T) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// SplitCopyLine splits one line of COPY's text format (without its
// newline) into fields, undoing the escapes COPY TO writes (\\, \b, \f,
// \n, \r, \t, \v, octal \ooo and hex \xhh). A field that is \N is nil (SQL
// NULL); every other field is non-nil, the empty string included. The
// fields are appended to dst; unescaped fields are new slices, the others
// alias line.
func SplitCopyLine(dst [][]byte, line []byte) [][]byte {
	for {
		end := 0
		for end < len(line) && line[end] != '\t' {
			end++
		}
		dst = append(dst, copyField(line[:end]))
		if end == len(line) {
			return dst
		}
		line = line[end+1:]
	}
}

func copyField(f []byte) []byte {
	if len(f) == 2 && f[0] == '\\' && f[1] == 'N' {
		return nil
	}
	i := 0
	for i < len(f) && f[i] != '\\' {
		i++
	}
	if i == len(f) {
		return f[:len(f):len(f)]
	}
	out := make([]byte, i, len(f))
	copy(out, f[:i])
	for ; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			out = append(out, c)
			continue
		}
		i++
		switch c = f[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(f) && hexDigit(f[i+1]) >= 0 {
				v = v*16 + hexDigit(f[i+1])
				i++
				n++
			}
			if n == 0 {
				out = append(out, 'x')
			} else {
				out = append(out, byte(v))
			}
		default:
			if c >= '0' && c <= '7' {
				v := int(c - '0')
				for n := 1; n < 3 && i+1 < len(f) && f[i+1] >= '0' && f[i+1] <= '7'; n++ {
					v = v*8 + int(f[i+1]-'0')
					i++
				}
				out = append(out, byte(v))
			} else {
				out = append(out, c)
			}
		}
	}
	return out
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// AppendCopyRow appends row as one line of COPY's text format, newline
// included: \N for NULL, every other value in its text form, escaped. A
// value with no text form (unchanged TOAST, absent, or one Encode
// refuses) stops it: the column's index and the error are returned.
func AppendCopyRow(dst []byte, row change.Row) ([]byte, int, error) {
	var scratch [128]byte
	for i, v := range row {
		if i > 0 {
			dst = append(dst, '\t')
		}
		switch v.Kind {
		case change.KindNull:
			dst = append(dst, '\\', 'N')
			continue
		case change.KindUnchanged, change.KindAbsent:
			return dst, i, fmt.Errorf("no value (%s)", v.Kind)
		}
		txt, err := Encode(scratch[:0], v)
		if err != nil {
			return dst, i, err
		}
		dst = AppendCopyText(dst, txt)
	}
	return append(dst, '\n'), -1, nil
}

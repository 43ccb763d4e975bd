package config

import (
	"net/url"
	"sort"
	"strings"
)

// redacted replaces every password Redact finds.
const redacted = "xxxxx"

// Redact returns dsn with every password replaced by "xxxxx", for logs and
// error messages. It understands
//
//   - URL DSNs: the password in scheme://user:password@host/..., and the
//     values of query parameters whose name contains "password"
//     (password, sslpassword; percent-encoded names too);
//   - keyword/value DSNs: the value after password= or sslpassword=, quoted
//     ('a b', 'it\'s') or not, with blanks around '=' allowed;
//   - user:password@tcp(host)/db (the MySQL driver's form).
//
// Malformed input is masked generously: in a URL the password is everything
// between the first ':' after the scheme and the last '@'; an unterminated
// quoted value runs to the end of the string; "password" followed by a
// blank and a word (a missing '=') masks that word. Redact is meant never
// to return its input's password, at the price of sometimes masking more
// (an '@' in a URL's query makes everything before it look like user info).
func Redact(dsn string) string {
	var m masker
	return m.redact(dsn)
}

// masker redacts and remembers what it masked, so that text derived from
// the same input can be scrubbed of it too.
type masker struct {
	secrets []string
}

// mask records secret and returns its replacement.
func (m *masker) mask(secret string) string {
	m.secrets = append(m.secrets, secret)
	return redacted
}

func (m *masker) redact(dsn string) string {
	switch {
	case hasScheme(dsn):
		return m.redactURL(dsn)
	case looksUserinfoFirst(dsn):
		return m.redactKeyValue(m.maskUserinfo(dsn), true)
	default:
		return m.redactKeyValue(dsn, true)
	}
}

// scrub replaces in text every secret m has masked, and every piece of
// one a URL parser might quote on its own (split at / ? # @ & : and
// blanks), if at least 3 bytes long.
func (m *masker) scrub(text string) string {
	var pieces []string
	for _, s := range m.secrets {
		pieces = append(pieces, s)
		if u, err := url.PathUnescape(s); err == nil {
			pieces = append(pieces, u)
		}
		pieces = append(pieces, strings.FieldsFunc(s, func(r rune) bool {
			return strings.ContainsRune("/?#@&: \t'\\", r)
		})...)
	}
	sort.Slice(pieces, func(i, j int) bool { return len(pieces[i]) > len(pieces[j]) })
	for _, p := range pieces {
		if len(p) >= 3 {
			text = strings.ReplaceAll(text, p, redacted)
		}
	}
	return text
}

// redactText redacts every DSN-looking word inside free text (a message
// from a library that may quote part of the input).
func redactText(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '"' || r == '`' || r == '\''
	})
	for _, w := range words {
		if strings.Contains(w, "://") || strings.Contains(w, "@") {
			var m masker
			if r := m.redact(w); r != w {
				s = strings.ReplaceAll(s, w, r)
			}
		}
	}
	var m masker
	return m.redactKeyValue(s, false)
}

// hasScheme reports whether s starts with a URL scheme and "://".
func hasScheme(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for j, c := range s[:i] {
		isAlpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !isAlpha && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// looksUserinfoFirst reports whether s looks like user:password@... (no
// keyword=value before the '@').
func looksUserinfoFirst(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	head := s[:at]
	return strings.Contains(head, ":") && !strings.ContainsAny(head[:strings.IndexByte(head, ':')], "= \t")
}

// redactURL masks the user-info password and password query parameters of
// a URL DSN. The user info is taken to end at the last '@' in the string:
// an unencoded '/', '?', '#' or '@' in a password ends the URL authority
// early for a URL parser, but must not end the masking.
func (m *masker) redactURL(s string) string {
	i := strings.Index(s, "://") + len("://")
	prefix, rest := s[:i], s[i:]
	from := 0
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		userinfo := m.maskUserinfo(rest[:at+1])
		rest = userinfo + rest[at+1:]
		from = len(userinfo)
	}
	if q := strings.IndexByte(rest[from:], '?'); q >= 0 {
		q += from + 1
		rest = rest[:q] + m.redactQuery(rest[q:])
	}
	return prefix + rest
}

// maskUserinfo masks what follows the first ':' before the last '@' in s.
func (m *masker) maskUserinfo(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	colon := strings.IndexByte(s[:at], ':')
	if colon < 0 || colon+1 == at {
		return s
	}
	return s[:colon+1] + m.mask(s[colon+1:at]) + s[at:]
}

// redactQuery masks the values of query parameters whose (decoded) name
// contains "password". Generously: a '#' does not end the value, and
// parameters without '=' that follow belong to it (an unencoded '&').
func (m *masker) redactQuery(q string) string {
	params := strings.Split(q, "&")
	out := params[:0]
	masking := false
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok && masking {
			m.mask(p)
			continue
		}
		masking = false
		if ok && v != "" {
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if strings.Contains(lowerASCII(name), "password") {
				p, masking = k+"="+m.mask(v), true
			}
		}
		out = append(out, p)
	}
	return strings.Join(out, "&")
}

// redactKeyValue masks the value of every keyword ending in "password"
// that is followed by '=' (blanks allowed around it) or, if loose, by
// blanks and a word.
func (m *masker) redactKeyValue(s string, loose bool) string {
	lower := lowerASCII(s) // same length as s, unlike strings.ToLower
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(lower[i:], "password")
		if j < 0 {
			break
		}
		k := i + j + len("password")
		v := skipBlanks(s, k)
		switch {
		case v < len(s) && s[v] == '=':
			v = skipBlanks(s, v+1)
		case !loose || v == k || v == len(s):
			b.WriteString(s[i:k])
			i = k
			continue
		}
		end := valueEnd(s, v)
		b.WriteString(s[i:v])
		if end > v {
			b.WriteString(m.mask(s[v:end]))
		}
		i = end
	}
	b.WriteString(s[i:])
	return b.String()
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the end of the keyword/value value starting at s[i]:
// a single-quoted string (backslash escapes) or a run of
// non-blank characters (backslash escapes). Unterminated quotes run to the
// end.
func valueEnd(s string, i int) int {
	if i < len(s) && s[i] == '\'' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '\'':
				return j + 1
			}
		}
		return len(s)
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
		if s[j] == '\\' {
			j++
		}
		j++
	}
	return min(j, len(s))
}

// lowerASCII lower-cases A-Z byte by byte.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

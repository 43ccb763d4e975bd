package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing to w in format "json" or "text" at level
// ("debug", "info", "warn", "error"), scrubbing the given secrets.
func New(w io.Writer, format, level string, secrets []string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "", "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want json or text", format)
	}
	return slog.New(&scrubHandler{next: h, s: NewScrubber(secrets)}), nil
}

// Scrubber replaces secrets in text. A secret is replaced where it stands
// as a token of its own, not where it is part of a longer word: with the
// password "bgsync", "postgres://u:bgsync@h" and "password bgsync" are
// scrubbed while the slot name "app_bgsync_blue" is left readable. A secret
// that is one word of a longer name could in theory be spelled out there;
// secrets that short are the risk, and the names stay usable.
type Scrubber struct{ secrets []string }

// NewScrubber ignores empty secrets.
func NewScrubber(secrets []string) *Scrubber {
	sc := &Scrubber{}
	for _, s := range secrets {
		if s != "" {
			sc.secrets = append(sc.secrets, s)
		}
	}
	return sc
}

// Scrub returns text with every secret token replaced by "xxxxx".
func (s *Scrubber) Scrub(text string) string {
	if s == nil {
		return text
	}
	for _, sec := range s.secrets {
		text = scrubOne(text, sec)
	}
	return text
}

func scrubOne(text, sec string) string {
	var b strings.Builder
	rest := text
	for {
		i := strings.Index(rest, sec)
		if i < 0 {
			break
		}
		end := i + len(sec)
		if (i > 0 && isWordByte(rest[i-1])) || (end < len(rest) && isWordByte(rest[end])) {
			b.WriteString(rest[:i+1]) // part of a longer word: keep, look further
			rest = rest[i+1:]
			continue
		}
		b.WriteString(rest[:i])
		b.WriteString("xxxxx")
		rest = rest[end:]
	}
	if b.Len() == 0 {
		return text
	}
	b.WriteString(rest)
	return b.String()
}

// isWordByte is true for the bytes that continue an identifier.
func isWordByte(c byte) bool {
	return c == '_' || c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

type scrubHandler struct {
	next slog.Handler
	s    *Scrubber
}

func (h *scrubHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.s.Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *scrubHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.s.Scrub(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = h.attr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.s.Scrub(err.Error()))
		}
		return slog.String(a.Key, h.s.Scrub(fmt.Sprint(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h *scrubHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return &scrubHandler{next: h.next.WithAttrs(out), s: h.s}
}

func (h *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{next: h.next.WithGroup(name), s: h.s}
}

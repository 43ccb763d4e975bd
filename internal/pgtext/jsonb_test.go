package pgtext

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// jsonbInputs are JSON texts as an application may write them (MariaDB
// stores JSON text as written), some of which jsonb refuses.
var jsonbInputs = []string{
	`{"theme":"dark","n":1,"tags":["a","b"]}`, `{"a":1,"a":2}`, `{"bb": 1, "a": 2, "ab": 3, "B": 4}`,
	`[1.50, 1e2, 1.5e-3, -0, -0.0, 1E+3, 12.5e1, 0.000, -0e-5, 0.00e131074]`,
	`"x\"\n\u00e9\t\u0001/"`, `"a\/b"`, `"\ud83d\ude80 \uD83D\uDE80 caf\u00e9"`, `"é 🚀"`,
	`{}`, `[]`, `[{}, [[]], null, true, false]`, ` { } `, `[ ]`,
	`{"nested": {"z": [1, {"y": "é"}], "a": null}}`, `  {"sp" :  1 }  `,
	`12345678901234567890123456789012345678901234567890`, `-1.000000000000000000000000000001`,
	`123e131069`, `0.001e131074`, `5e-16383`, `0e1073741822`,
	// Refused by the server.
	`123e131070`, `0.001e131075`, `5e-16384`, `0e-16384`, `1e999999999999`, `0e1073741823`,
	`"\u0000"`, `"\ud800"`, `"\udc00 x"`, `"\ud83d x"`, `"\ud83d\u0041"`,
	`not json`, `{"a":1}}`, `{"a":1} 2`, `[1,]`, `'x'`, ``,
}

// TestJSONBMatchesServer checks JSONB against what PostgreSQL prints for
// the same text as a jsonb, and that it refuses what the server refuses.
func TestJSONBMatchesServer(t *testing.T) {
	conn := connectTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, in := range jsonbInputs {
		var want string
		serr := conn.QueryRow(ctx, `SELECT $1::jsonb::text`, in).Scan(&want)
		got, err := JSONB(in)
		switch {
		case serr != nil && err == nil:
			t.Errorf("JSONB(%.40q) = %.40q, the server refuses it: %v", in, got, serr)
		case serr == nil && err != nil:
			t.Errorf("JSONB(%.40q): %v, the server prints %.40q", in, err, want)
		case serr == nil && got != want:
			t.Errorf("JSONB(%.40q) = %.60q, the server prints %.60q", in, got, want)
		}
	}
}

func TestJSONB(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"b":[1, 2],"a":1}`, `{"a": 1, "b": [1, 2]}`},
		{`{"long":1,"b":2}`, `{"b": 2, "long": 1}`}, // by length first
		{`[1.0, 1e2, 1.5E-3, -0, 0.10, 2.50e1]`, `[1.0, 100, 0.0015, 0, 0.10, 25.0]`},
		{`"caf\u00e9 \ud83d\ude80 \/ \u001f"`, `"café 🚀 / \u001f"`},
	} {
		if got, err := JSONB(c.in); err != nil || got != c.want {
			t.Errorf("JSONB(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	// Exponents are bounded before any number is expanded: these answer
	// at once, without building a number of a billion digits.
	for _, in := range []string{`1e1073741822`, `1e-1073741822`, `[0.5e999999999]`} {
		start := time.Now()
		_, err := JSONB(in)
		if !errors.Is(err, ErrRange) {
			t.Errorf("JSONB(%s): %v, want an error wrapping ErrRange", in, err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("JSONB(%s) took %s", in, d)
		}
	}
	if _, err := JSONB("\"\xff\""); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v, want an error", err)
	}
}

func FuzzJSONB(f *testing.F) {
	for _, in := range jsonbInputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := JSONB(in)
		if err != nil {
			return
		}
		// The form is a fixed point: jsonb reads its own output back as
		// the same value.
		again, err := JSONB(out)
		if err != nil || again != out {
			t.Fatalf("JSONB(%q) = %q, which gives %q, %v", in, out, again, err)
		}
	})
}

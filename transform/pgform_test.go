package transform

import (
	"context"
	"testing"
	"time"

	"github.com/bgsync/bgsync/change"
	"github.com/bgsync/bgsync/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// TestStoredFormMatchesServer checks storedForm against what PostgreSQL
// itself prints for the same input, so a mapped before-image equals the
// target's stored value.
func TestStoredFormMatchesServer(t *testing.T) {
	dsn := testenv.NewDatabase(t, testenv.BlueDSN())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, in := range []string{
		`{"theme":"dark","n":1,"tags":["a","b"]}`, `{"a":1,"a":2}`, `{"bb": 1, "a": 2, "ab": 3, "B": 4}`,
		`[1.50, 1e2, 1.5e-3, -0, -0.0, 1E+3, 12.5e1, 0.000]`, `"x\"\n\u00e9\t\u0001/"`, `{}`, `[]`, `[{}, [[]], null, true, false]`,
		`{"nested": {"z": [1, {"y": "é"}], "a": null}}`, `  {"sp" :  1 }  `,
	} {
		var want string
		if err := conn.QueryRow(ctx, `SELECT $1::jsonb::text`, in).Scan(&want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := storedForm(change.JSON(in), "jsonb")
		if err != nil || got.S != want {
			t.Errorf("jsonb %s: got %s (%v), server prints %s", in, got.S, err, want)
		}
	}
	for _, tc := range []struct{ in, typ string }{
		{"12.5", "numeric(12,2)"}, {"0.125", "numeric(12,2)"}, {"-0.125", "numeric(12,2)"}, {"7.5", "numeric(10)"},
		{"1.005", "numeric(8,2)"}, {"-2.5", "numeric(5,0)"}, {"3", "numeric(6,3)"},
	} {
		var want string
		if err := conn.QueryRow(ctx, `SELECT $1::`+tc.typ+`::text`, tc.in).Scan(&want); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		got, err := storedForm(change.Numeric(tc.in), tc.typ)
		if err != nil || got.S != want {
			t.Errorf("%s %s: got %s (%v), server prints %s", tc.typ, tc.in, got.S, err, want)
		}
	}
}

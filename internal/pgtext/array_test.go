package pgtext

import (
	"errors"
	"math"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bgsync/bgsync/change"
)

func TestDecodeArrayLiterals(t *testing.T) {
	arr := func(el ...change.Value) change.Value { return change.Array(el) }
	txt := change.Text
	tests := []struct {
		name string
		elem uint32
		text string
		want change.Value
	}{
		{"empty", pgtype.Int4OID, "{}", arr()},
		{"ints", pgtype.Int4OID, "{1,2,3}", arr(change.Int(1), change.Int(2), change.Int(3))},
		{"two_dims", pgtype.Int4OID, "{{1,2},{3,4}}", arr(arr(change.Int(1), change.Int(2)), arr(change.Int(3), change.Int(4)))},
		{"three_dims", pgtype.Int4OID, "{{{1}},{{NULL}}}", arr(arr(arr(change.Int(1))), arr(arr(change.Null())))},
		{"quoted", pgtype.TextOID, `{NULL,"a b","q\"x","","NULL",null,"back\\slash"}`,
			arr(change.Null(), txt("a b"), txt(`q"x`), txt(""), txt("NULL"), change.Null(), txt(`back\slash`))},
		{"unquoted_escape", pgtype.TextOID, `{a\,b,c\ }`, arr(txt("a,b"), txt("c "))},
		{"escaped_null_is_text", pgtype.TextOID, `{\NULL}`, arr(txt("NULL"))},
		{"whitespace", pgtype.TextOID, " { a , \"b\" } ", arr(txt("a"), txt("b"))},
		{"unicode", pgtype.TextOID, `{日本,"🎉 x"}`, arr(txt("日本"), txt("🎉 x"))},
		{"bounds_one", pgtype.Int4OID, "[1:2]={5,6}", arr(change.Int(5), change.Int(6))},
		{"bytea", pgtype.ByteaOID, `{"\\x01ff",NULL}`, arr(change.Bytes([]byte{1, 0xff}), change.Null())},
		{"dates", pgtype.DateOID, `{2024-01-01,"0044-03-15 BC",-infinity}`,
			arr(change.Date(dayOf(2024, 1, 1)), change.Date(dayOf(-43, 3, 15)), change.Date(change.NegInfinity))},
		{"floats", pgtype.Float8OID, `{NaN,-Infinity,-0,1.5}`, arr(change.Float(nan()), change.Float(negInf()), change.Float(negZero()), change.Float(1.5))},
		{"jsonb", pgtype.JSONBOID, `{"{\"a\": [1, 2]}",null}`, arr(change.JSON(`{"a": [1, 2]}`), change.Null())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeArray(tc.elem, []byte(tc.text))
			if err != nil {
				t.Fatalf("DecodeArray(%d, %q): %v", tc.elem, tc.text, err)
			}
			if !change.Equal(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeArrayErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want error
	}{
		{"empty_input", "", ErrSyntax},
		{"no_brace", "1,2", ErrSyntax},
		{"unterminated", "{1,2", ErrSyntax},
		{"unterminated_quote", `{"a}`, ErrSyntax},
		{"trailing_backslash", `{a\`, ErrSyntax},
		{"junk_after", "{1}x", ErrSyntax},
		{"empty_element", "{1,,2}", ErrSyntax},
		{"mixed_levels", "{{1},2}", ErrSyntax},
		{"mixed_levels_2", "{1,{2}}", ErrSyntax},
		{"too_deep", "{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}", ErrSyntax},
		{"bad_bounds", "[1:x]={1}", ErrSyntax},
		{"bounds_no_equals", "[1:1]{1}", ErrSyntax},
		{"lower_bound_zero", "[0:1]={1,2}", ErrRange},
		{"element_error", "{1,abc}", ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodeArray(pgtype.Int4OID, []byte(tc.text))
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodeArray(%q) = %+v, %v; want %v", tc.text, v, err, tc.want)
			}
		})
	}
}

func TestQuoteElement(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"", `""`},
		{"NuLl", `"NuLl"`},
		{"nulls", "nulls"},
		{`a"b\c`, `"a\"b\\c"`},
		{"{", `"{"`},
		{"new\nline", "\"new\nline\""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			dst := []byte("pre")
			dst = append(dst, tc.in...)
			if got := string(quoteElement(dst, 3)); got != "pre"+tc.want {
				t.Fatalf("quoteElement(%q) = %q, want %q", tc.in, got, "pre"+tc.want)
			}
		})
	}
}

func nan() float64     { return math.NaN() }
func negInf() float64  { return math.Inf(-1) }
func negZero() float64 { return math.Copysign(0, -1) }

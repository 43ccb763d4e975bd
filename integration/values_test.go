package integration

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
)

// SQL literal builders. The workload sends plain SQL text so that what
// reaches blue does not depend on a driver's type encodings.

// lit quotes s as an SQL string literal (standard_conforming_strings on).
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// byteaLit is a bytea literal in hex form.
func byteaLit(b []byte) string { return `'\x` + hex.EncodeToString(b) + `'::bytea` }

// arrayElem quotes one element of an array literal; nil is NULL.
func arrayElem(s *string) string {
	if s == nil {
		return "NULL"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(*s) + `"`
}

// textArrayLit builds a text[]-style literal from elements (nil = NULL).
func textArrayLit(elems []*string, typ string) string {
	parts := make([]string, len(elems))
	for i, e := range elems {
		parts[i] = arrayElem(e)
	}
	return lit("{"+strings.Join(parts, ",")+"}") + "::" + typ
}

func sp(s string) *string { return &s }

// alltypesColumns are the columns of alltypes after id, in table order.
var alltypesColumns = []string{
	"c_bool", "c_int2", "c_int4", "c_int8", "c_numeric", "c_numeric_12_2", "c_float4", "c_float8",
	"c_text", "c_varchar", "c_char", "c_bytea", "c_date", "c_time", "c_timetz", "c_timestamp",
	"c_timestamptz", "c_interval", "c_uuid", "c_json", "c_jsonb", "c_int4_arr", "c_text_arr",
	"c_enum", "c_enum_arr",
}

// edgeValues lists, per alltypes column, SQL expressions for the edge
// values of its type. NULL is added separately.
var edgeValues = map[string][]string{
	"c_bool": {"true", "false"},
	"c_int2": {"-32768", "32767", "0", "-1"},
	"c_int4": {"-2147483648", "2147483647", "0"},
	"c_int8": {"-9223372036854775808", "9223372036854775807", "0"},
	"c_numeric": {"'NaN'", "'Infinity'", "'-Infinity'", "1.10", "1.100000", "0.000000000000000000000000000001",
		"-123456789012345678901234567890.123456789012345678901234567890", "0", "0.0", "-0.5", "1e20", "100"},
	"c_numeric_12_2": {"1.10", "'NaN'", "-9999999999.99", "9999999999.99", "0.00", "0.01"},
	"c_float4":       {"'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'1.4e-45'", "'3.4028235e38'", "'1.17549435e-38'", "0.1", "'-1.5'"},
	"c_float8": {"'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "'5e-324'", "'1.7976931348623157e308'",
		"'2.2250738585072014e-308'", "0.1", "'0.30000000000000004'", "'-1e-300'"},
	"c_text": {"''", lit("emoji 😀👍🏽🇩🇪 family 👨‍👩‍👧"), lit("combining e\u0301 vs é, a\u030a vs å"),
		lit(`quotes ' " and backslash \ and \\ and \n (not a newline)`), lit("real newline\nand\ttab\rcr"),
		lit("ünïcödé Ω≈ç√ 中文 עִבְרִית العربية"), lit("NULL"), lit(" leading and trailing spaces "),
		lit("{braces},[brackets],(parens)|pipe"), lit(strings.Repeat("long ", 500))},
	"c_varchar": {"''", lit("😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"), lit("exactly twenty chars"), lit("e\u0301")},
	"c_char":    {"''", lit("ab"), lit("abcde"), lit("é😀"), lit(" a  ")},
	"c_bytea": {`'\x'::bytea`, `'\x00'::bytea`, `'\x0000ff00'::bytea`, byteaLit([]byte("with\x00zero\x00bytes")),
		byteaLit([]byte{0xff, 0xfe, 0x00, 0x01, 0x5c, 0x27, 0x22})},
	"c_date": {"'infinity'", "'-infinity'", "'4713-01-01 BC'", "'0001-01-01 BC'", "'0001-01-01'",
		"'5874897-12-31'", "'2000-02-29'", "'1970-01-01'"},
	"c_time": {"'00:00:00'", "'23:59:59.999999'", "'24:00:00'", "'12:34:56.000001'"},
	"c_timetz": {"'00:00:00+1559'", "'23:59:59.999999-1559'", "'12:34:56.789+05:30'", "'24:00:00+00'",
		"'01:02:03.000001-03:30'"},
	"c_timestamp": {"'infinity'", "'-infinity'", "'4713-01-01 00:00:00 BC'", "'294276-12-31 23:59:59.999999'",
		"'2024-02-29 12:34:56.123456'", "'0001-01-01 00:00:00 BC'", "'2000-01-01 00:00:00.000001'", "'1969-12-31 23:59:59.999999'"},
	"c_timestamptz": {"'infinity'", "'-infinity'", "'4713-01-01 00:00:00+00 BC'", "'294276-12-31 23:59:59.999999+00'",
		"'2024-03-10 02:30:00.000001-08'", "'1999-12-31 23:59:59.999999+14'", "'0044-03-15 12:00:00+01 BC'"},
	"c_interval": {"'-1 year -2 mons +3 days -04:05:06.789'", "'178000000 years'", "'-178000000 years'",
		"'1 day -1 second'", "'0'", "'1 mon -30 days'", "'00:00:00.000001'", "'-00:00:00.000001'",
		"'2147483647 days 2562047788:00:54.775807'"},
	"c_uuid": {"'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
		"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"},
	"c_json": {lit(`{ "a" : 1,  "b":[1, 2 ,3] , "a": 2 }`), lit(`"just a string"`), lit(`null`), lit(`[]`),
		lit("{\"emoji\":\"😀\",\"esc\":\"\\u00e9\\n\\\"\",\n  \"num\": 1.000e0 }"), lit(`  true  `)},
	"c_jsonb": {lit(`{"b": 1, "a": [true, null, 1.10, "x"]}`), lit(`null`), lit(`{}`), lit(`[]`),
		lit(`{"nested": {"deep": [[[]]], "k": {"": ""}}}`), lit(`"😀 e\u0301"`), lit(`1e100`), lit(`-0.0`)},
	"c_int4_arr": {"'{}'", "'{1,NULL,3}'", "'{{1,2},{3,4}}'", "'{{{1}},{{2}}}'",
		"'{NULL}'", "'{-2147483648,2147483647}'"},
	"c_text_arr": {
		textArrayLit([]*string{sp("a,b"), sp(`c"d`), sp("{e}"), sp("NULL"), nil, sp(""), sp("x y"), sp(`\`)}, "text[]"),
		"'{}'::text[]",
		textArrayLit([]*string{sp("😀"), sp("e\u0301"), sp("'single'")}, "text[]"),
		"'{{a,b},{c,d}}'::text[]",
		textArrayLit([]*string{nil, nil}, "text[]"),
		textArrayLit([]*string{sp(" padded "), sp("new\nline")}, "text[]"),
	},
	"c_enum":     {"'sad'", "'ok'", "'happy'", "'with space'", "'it''s'", "'ünï😀'"},
	"c_enum_arr": {"'{}'", `'{sad,NULL,"with space"}'`, `'{"it''s","ünï😀",happy}'`, "'{{ok,sad},{happy,ok}}'"},
}

// edgeRowCount is the number of edge rows: enough for every edge value of
// every column to appear at least once.
func edgeRowCount() int {
	n := 0
	for _, vs := range edgeValues {
		n = max(n, len(vs))
	}
	return n
}

// edgeRow returns the values of edge row i (column c takes its value
// i mod len), with column nullCol (index into alltypesColumns, -1 none)
// NULL.
func edgeRow(i, nullCol int) []string {
	vals := make([]string, len(alltypesColumns))
	for c, col := range alltypesColumns {
		vs := edgeValues[col]
		vals[c] = vs[(i+c)%len(vs)]
		if c == nullCol {
			vals[c] = "NULL"
		}
	}
	return vals
}

// randomAlltypesRow draws one row of values of every type; about one value
// in eight is NULL and one in eight is an edge value.
func randomAlltypesRow(r *rand.Rand) []string {
	vals := make([]string, len(alltypesColumns))
	for c, col := range alltypesColumns {
		switch k := r.IntN(8); {
		case k == 0:
			vals[c] = "NULL"
		case k == 1:
			vs := edgeValues[col]
			vals[c] = vs[r.IntN(len(vs))]
		default:
			vals[c] = randomValue(r, col)
		}
	}
	return vals
}

// randomValue draws an ordinary value for an alltypes column.
func randomValue(r *rand.Rand, col string) string {
	switch col {
	case "c_bool":
		return fmt.Sprint(r.IntN(2) == 0)
	case "c_int2":
		return fmt.Sprint(r.IntN(65536) - 32768)
	case "c_int4":
		return fmt.Sprint(r.Int32() - 1<<30)
	case "c_int8":
		return fmt.Sprint(r.Int64() - 1<<62)
	case "c_numeric":
		return fmt.Sprintf("%d.%0*d", r.Int64N(1e12)-5e11, r.IntN(8)+1, r.IntN(10))
	case "c_numeric_12_2":
		return fmt.Sprintf("%d.%02d", r.Int64N(2e9)-1e9, r.IntN(100))
	case "c_float4":
		return fmt.Sprintf("'%g'", float32(r.NormFloat64()*1e3))
	case "c_float8":
		return fmt.Sprintf("'%g'", r.NormFloat64()*1e6)
	case "c_text":
		return lit(randomText(r, r.IntN(60)))
	case "c_varchar":
		return lit(randomText(r, r.IntN(20)))
	case "c_char":
		return lit(randomText(r, r.IntN(5)))
	case "c_bytea":
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return byteaLit(b)
	case "c_date":
		return fmt.Sprintf("'%04d-%02d-%02d'", 1+r.IntN(9998), 1+r.IntN(12), 1+r.IntN(28))
	case "c_time":
		return fmt.Sprintf("'%02d:%02d:%02d.%06d'", r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e6))
	case "c_timetz":
		return fmt.Sprintf("'%02d:%02d:%02d.%06d%+03d:%02d'", r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e6), r.IntN(27)-13, 15*r.IntN(4))
	case "c_timestamp":
		return fmt.Sprintf("'%04d-%02d-%02d %02d:%02d:%02d.%06d'", 1+r.IntN(9998), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e6))
	case "c_timestamptz":
		return fmt.Sprintf("'%04d-%02d-%02d %02d:%02d:%02d.%06d%+03d'", 1900+r.IntN(300), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e6), r.IntN(27)-13)
	case "c_interval":
		return fmt.Sprintf("'%d years %d mons %d days %d:%02d:%02d.%06d'", r.IntN(200)-100, r.IntN(24)-12, r.IntN(60)-30, r.IntN(100)-50, r.IntN(60), r.IntN(60), r.IntN(1e6))
	case "c_uuid":
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		h := hex.EncodeToString(b)
		return fmt.Sprintf("'%s-%s-%s-%s-%s'", h[:8], h[8:12], h[12:16], h[16:20], h[20:])
	case "c_json":
		return lit(fmt.Sprintf(`{"k": %d,  "s": %q , "arr":[%d, null]}`, r.IntN(1000), randomASCII(r, 8), r.IntN(10)))
	case "c_jsonb":
		return lit(fmt.Sprintf(`{"k": %d, "f": %g, "t": %q}`, r.IntN(1000), r.Float64(), randomASCII(r, 6)))
	case "c_int4_arr":
		n := r.IntN(5)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprint(r.IntN(2000) - 1000)
			if r.IntN(6) == 0 {
				parts[i] = "NULL"
			}
		}
		return lit("{" + strings.Join(parts, ",") + "}")
	case "c_text_arr":
		elems := make([]*string, r.IntN(4))
		for i := range elems {
			if r.IntN(6) != 0 {
				elems[i] = sp(randomText(r, r.IntN(10)))
			}
		}
		return textArrayLit(elems, "text[]")
	case "c_enum":
		return lit(enumLabels[r.IntN(len(enumLabels))])
	case "c_enum_arr":
		elems := make([]*string, r.IntN(4))
		for i := range elems {
			elems[i] = sp(enumLabels[r.IntN(len(enumLabels))])
		}
		return textArrayLit(elems, "mood[]")
	}
	panic("no generator for column " + col)
}

var enumLabels = []string{"sad", "ok", "happy", "with space", "it's", "ünï😀"}

// textRunes mixes ASCII with characters that trip encoders: quotes,
// backslashes, separators, multi-byte and combining characters, emoji.
var textRunes = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789     ',\"\\{}()|;:.-_éüß中文Ω😀🎉\u0301\u200d")

// randomText returns n random runes from textRunes.
func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(textRunes[r.IntN(len(textRunes))])
	}
	return b.String()
}

const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomASCII(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = asciiLetters[r.IntN(len(asciiLetters))]
	}
	return string(b)
}

// bigText returns about n bytes of random printable ASCII: it does not
// compress, so in accounts.notes (STORAGE EXTERNAL) it is TOASTed.
func bigText(r *rand.Rand, n int) string {
	const chars = asciiLetters + "+/=!#$%&*<>?@[]^`~"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

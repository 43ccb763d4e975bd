package transform

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
)

// my builds a MariaDB/MySQL column as ReadMySQLColumns does, from
// "name:COLUMN_TYPE[:key|:notnull|:json]" ("decimal(12,2)", "int(10) unsigned").
func my(spec ...string) []Column {
	var out []Column
	for _, s := range spec {
		f := strings.Split(s, ":")
		m := &MySQLType{ColumnType: f[1]}
		m.DataType, _, _ = strings.Cut(f[1], "(")
		m.DataType, _, _ = strings.Cut(m.DataType, " ")
		m.Unsigned = strings.Contains(f[1], "unsigned")
		if i := strings.IndexByte(f[1], '('); i >= 0 {
			args := f[1][i+1 : strings.IndexByte(f[1], ')')]
			p, sc, _ := strings.Cut(args, ",")
			var n int
			for _, r := range p {
				n = n*10 + int(r-'0')
			}
			switch m.DataType {
			case "char", "varchar", "binary", "varbinary":
				m.Length = int64(n)
			case "datetime", "timestamp", "time":
				m.Scale = n
			default:
				m.Precision = n
				for _, r := range sc {
					m.Scale = m.Scale*10 + int(r-'0')
				}
			}
		}
		m.JSON = m.DataType == "json"
		c := Column{Name: f[0], MySQL: m}
		for _, flag := range f[2:] {
			switch flag {
			case "key":
				c.Key, c.NotNull = true, true
			case "notnull":
				c.NotNull = true
			case "json":
				m.JSON = true
			}
		}
		c.Type = PGTypeOf(*m)
		out = append(out, c)
	}
	return out
}

func TestPGTypeOf(t *testing.T) {
	for _, tc := range []struct{ mysql, pg string }{
		{"tinyint(1)", "smallint"},
		{"tinyint(4)", "smallint"},
		{"tinyint(3) unsigned", "smallint"},
		{"smallint(6)", "smallint"},
		{"smallint(5) unsigned", "integer"},
		{"mediumint(8) unsigned", "integer"},
		{"int(11)", "integer"},
		{"int(10) unsigned", "bigint"},
		{"bigint(20)", "bigint"},
		{"bigint(20) unsigned", "numeric(20,0)"},
		{"year(4)", "smallint"},
		{"decimal(12,2)", "numeric(12,2)"},
		{"float", "real"},
		{"double", "double precision"},
		{"bit(3)", "bit(3)"},
		{"char(3)", "character(3)"},
		{"varchar(200)", "character varying(200)"},
		{"text", "text"},
		{"longtext", "text"},
		{"enum('a','b')", "text"},
		{"set('x','y')", "text"},
		{"json", "json"},
		{"blob", "bytea"},
		{"binary(16)", "bytea"},
		{"date", "date"},
		{"time", "time(0) without time zone"},
		{"time(6)", "time without time zone"},
		{"datetime(3)", "timestamp(3) without time zone"},
		{"datetime(6)", "timestamp without time zone"},
		{"timestamp(6)", "timestamp with time zone"},
		{"timestamp", "timestamp(0) with time zone"},
		{"geometry", "geometry"},
	} {
		t.Run(tc.mysql, func(t *testing.T) {
			if got := my("c:" + tc.mysql)[0].Type; got != tc.pg {
				t.Errorf("PGTypeOf(%s) = %q, want %q", tc.mysql, got, tc.pg)
			}
		})
	}
	alias := my("doc:longtext:json")[0]
	if alias.Type != "json" || alias.form() != rawJSONText {
		t.Errorf("MariaDB's JSON alias: type %q, form %d", alias.Type, alias.form())
	}
}

// itemsMy and itemsPG are integration's items table on each engine.
var (
	itemsMy = my("id:bigint(20):key", "qty:int(10) unsigned:notnull", "price:decimal(12,2)", "flag:tinyint(1)",
		"happened:datetime(6)", "doc:longtext:json", "note:varchar(200)", "payload:blob", "big:bigint(20) unsigned", "mood:enum('ok','bad')")
	itemsPG = cols("id:bigint:key", "qty:bigint:notnull", "price:numeric(12,2)", "flag:boolean",
		"happened:timestamp with time zone", "doc:jsonb", "note:character varying(200)", "payload:bytea", "big:numeric(20,0)", "mood:text")
	myT = change.Table{Schema: "shop", Name: "items"}
)

func update(src []Column, before, after change.Row) *change.Change {
	c := insert(src, after...)
	c.Op, c.Before, c.Table = change.OpUpdate, before, myT
	return c
}

// ts is 2024-03-01 12:34:56.789012 as microseconds since 2000.
const ts = int64(762611696789012)

func TestImplicitMariaDBToPostgres(t *testing.T) {
	m := Implicit(myT, myT, itemsMy, itemsPG)
	if m.Identity() {
		t.Fatal("a mapping with conversions reports itself an identity")
	}
	row := change.Row{change.Int(7), change.Int(3), change.Numeric("12.50"), change.Int(1), change.Timestamp(ts),
		change.Text(`{"tags":["a"],"n":1}`), change.Text("naïve"), change.Bytes([]byte{0, 1}), change.Uint(math.MaxUint64), change.Enum("ok")}
	before := append(change.Row(nil), row...)
	before[3] = change.Int(0)
	out, err := m.NewMapper().Map(update(itemsMy, before, row))
	if err != nil {
		t.Fatal(err)
	}
	want := change.Row{change.Int(7), change.Int(3), change.Numeric("12.50"), change.Bool(true), change.TimestampTZ(ts),
		change.JSON(`{"n": 1, "tags": ["a"]}`), change.Text("naïve"), change.Bytes([]byte{0, 1}), change.Numeric("18446744073709551615"), change.Text("ok")}
	for i, w := range want {
		if !change.Equal(out.After[i], w) {
			t.Errorf("after %s = %+v, want %+v", itemsPG[i].Name, out.After[i], w)
		}
	}
	if !change.Equal(out.Before[3], change.Bool(false)) || !change.Equal(out.Before[5], want[5]) {
		t.Errorf("before image not in the target's kinds: %+v", out.Before)
	}
	row[3] = change.Int(5)
	_, err = m.NewMapper().Map(update(itemsMy, before, row))
	var re *RowError
	if !errors.As(err, &re) || !re.Implicit || re.Column != "flag" || !strings.Contains(err.Error(), "5 in a tinyint(1) is not a boolean") {
		t.Errorf("a 5 bound for a boolean: got %v", err)
	}
}

func TestImplicitPostgresToMariaDB(t *testing.T) {
	m := Implicit(myT, myT, itemsPG, itemsMy)
	row := change.Row{change.Int(7), change.Int(3), change.Numeric("12.50"), change.Bool(true), change.TimestampTZ(ts),
		change.JSON(`{"n": 1}`), change.Text("x"), change.Bytes(nil), change.Numeric("42"), change.Text("bad")}
	out, err := m.NewMapper().Map(update(itemsPG, row, row))
	if err != nil {
		t.Fatal(err)
	}
	// What capture/mysql would send for the same row of the MariaDB table.
	want := change.Row{change.Int(7), change.Int(3), change.Numeric("12.50"), change.Int(1), change.Timestamp(ts),
		change.Text(`{"n": 1}`), change.Text("x"), change.Bytes(nil), change.Int(42), change.Enum("bad")}
	for i, w := range want {
		if !change.Equal(out.Before[i], w) {
			t.Errorf("before %s = %+v, want %+v", itemsMy[i].Name, out.Before[i], w)
		}
	}
	row[8] = change.Numeric("-1")
	if _, err := m.NewMapper().Map(insert(itemsPG, row...)); err == nil || !strings.Contains(err.Error(), "not a BIGINT UNSIGNED") {
		t.Errorf("-1 into a BIGINT UNSIGNED: got %v", err)
	}
}

func TestImplicitPassesWhatItCannotConvert(t *testing.T) {
	src := my("id:int(11):key", "mood:enum('a','b')", "extra:int(11)")
	dst := cols("id:integer:key", "mood:mood")
	m := Implicit(myT, myT, src, dst)
	out, err := m.NewMapper().Map(insert(src, change.Int(1), change.Enum("a"), change.Int(2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Columns) != 3 || out.Columns[2].Name != "extra" || !change.Equal(out.After[1], change.Enum("a")) {
		t.Errorf("got %+v %+v", out.Columns, out.After)
	}
	if !m.Identity() {
		t.Error("nothing converts, yet the mapping is not an identity")
	}
}

// Between two MariaDB/MySQL tables of the same types nothing converts:
// the pipeline skips the mapping, so such tables cost nothing per row.
func TestSameEngineIdentity(t *testing.T) {
	if m := Implicit(myT, myT, itemsMy, itemsMy); !m.Identity() {
		t.Error("Implicit between identical MariaDB tables is not an identity")
	}
	m, probs := Compile(Rule{Source: myT, Target: myT}, itemsMy, itemsMy)
	if len(probs) > 0 || !m.Identity() {
		t.Errorf("Compile between identical MariaDB tables: %v, identity %v", probs, m != nil && m.Identity())
	}
}

func TestCompileMariaDBTransform(t *testing.T) {
	blue := my("id:int(11):key", "email:varchar(100)", "name:varchar(100):notnull", "price_cents:int(11):notnull",
		"active:tinyint(1)", "n:bigint(20) unsigned")
	green := cols("id:integer:key", "email_address:text", "first_name:text:notnull", "last_name:text:notnull",
		"price:numeric(12,2):notnull", "active:boolean", "n_text:text")
	r := Rule{Source: myT, Target: myT,
		Rename: map[string]string{"email": "email_address"},
		Set: map[string]string{
			"first_name": `split_part(name, " ", 0)`,
			"last_name":  `split_part(name, " ", 1)`,
			"price":      `unscaled(price_cents, 2)`,
			"n_text":     `string(n)`,
		},
		Drop: []string{"name", "price_cents", "n"},
	}
	m, probs := Compile(r, blue, green)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	out, err := m.NewMapper().Map(insert(blue, change.Int(1), change.Text("a@b"), change.Text("Ada Lovelace"),
		change.Int(1250), change.Int(1), change.Uint(math.MaxUint64)))
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]change.Value{"email_address": change.Text("a@b"), "first_name": change.Text("Ada"),
		"last_name": change.Text("Lovelace"), "price": change.Numeric("12.50"), "active": change.Bool(true),
		"n_text": change.Text("18446744073709551615")} {
		if g := get(t, out, name); !change.Equal(g, w) {
			t.Errorf("%s = %+v, want %+v", name, g, w)
		}
	}
	// Back: a boolean expression fills a TINYINT(1) as 0/1; a boolean
	// copied to one arrives as the integer MariaDB's capture sends.
	back := Rule{Source: myT, Target: myT,
		Rename: map[string]string{"email_address": "email"},
		Set: map[string]string{"name": `first_name + " " + last_name`, "price_cents": `scaled(price, 2)`,
			"n": `int(n_text)`},
		Drop: []string{"first_name", "last_name", "price"},
	}
	bm, probs := Compile(back, green, blue)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	got, err := bm.NewMapper().Map(insert(green, out.After...))
	if err != nil {
		// n_text of MaxUint64 does not fit an int: the expression fails.
		var re *RowError
		if !errors.As(err, &re) || re.Column != "n" {
			t.Fatal(err)
		}
	}
	out.After[6] = change.Text("42")
	if got, err = bm.NewMapper().Map(insert(green, out.After...)); err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]change.Value{"active": change.Int(1), "name": change.Text("Ada Lovelace"),
		"price_cents": change.Int(1250), "n": change.Int(42)} {
		if g := get(t, got, name); !change.Equal(g, w) {
			t.Errorf("back %s = %+v, want %+v", name, g, w)
		}
	}
	// A bool computed into a TINYINT(1) is accepted at compile time; an
	// integer column takes no bool.
	_, probs = Compile(Rule{Source: myT, Target: myT, Rename: map[string]string{"email_address": "email"},
		Set:  map[string]string{"active": `first_name != ""`, "n": `last_name != ""`, "name": "first_name", "price_cents": "0"},
		Drop: []string{"last_name", "price", "n_text", "active"}}, green, blue)
	if len(probs) != 1 || !strings.Contains(probs[0].String(), "bigint(20) unsigned column cannot take") {
		t.Errorf("problems: %v", probs)
	}
}

func TestCopyTinyint1NotInteger(t *testing.T) {
	_, probs := Compile(Rule{Source: myT, Target: myT}, cols("id:integer:key", "b:boolean"), my("id:int(11):key", "b:int(11)"))
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "a boolean cannot be copied to a int(11)") {
		t.Errorf("boolean → INT: %v", probs)
	}
}

func TestDatesCountFrom1970(t *testing.T) {
	src := cols("id:integer:key", "d:date")
	dst := cols("id:integer:key", "d:timestamp without time zone")
	out, err := mustCompile(t, Rule{}, src, dst).Map(insert(src, change.Int(1), change.Date(19782)))
	if err != nil {
		t.Fatal(err)
	}
	if want := change.Timestamp(762480000000000); !change.Equal(out.After[1], want) { // 2024-02-29
		t.Errorf("date 2024-02-29 as a timestamp: %+v, want %+v", out.After[1], want)
	}
}

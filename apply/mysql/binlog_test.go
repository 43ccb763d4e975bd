package mysql_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// A minimal reader of MariaDB binlog files, for tests: it reads event
// headers and the table names of Table_map events straight from the
// server's binlog files (the test databases run on this machine), enough
// to show which transactions carry the skip_replication flag.

const (
	evQuery         = 2
	evXID           = 16
	evTableMap      = 19
	evGTIDMariaDB   = 162
	flagSkipReplica = 0x8000
)

type binlogEvent struct {
	typ   byte
	flags uint16
	db    string // Table_map only
	table string
}

// binlogTxn is the events of one transaction, from its GTID event to its
// XID (or COMMIT query) event.
type binlogTxn struct{ events []binlogEvent }

func (t binlogTxn) touches(db string) bool {
	for _, e := range t.events {
		if e.typ == evTableMap && e.db == db {
			return true
		}
	}
	return false
}

func (t binlogTxn) allFlagged() bool {
	for _, e := range t.events {
		if e.flags&flagSkipReplica == 0 {
			return false
		}
	}
	return true
}

// tables lists the Table_map events' db.table in order.
func (t binlogTxn) tables() []string {
	var out []string
	for _, e := range t.events {
		if e.typ == evTableMap {
			out = append(out, e.db+"."+e.table)
		}
	}
	return out
}

// binlogPos is where the server's binlog ends now.
type binlogPos struct {
	file string
	pos  int64
}

func (e *env) binlogPos() binlogPos {
	e.t.Helper()
	var p binlogPos
	var doDB, ignoreDB, gtid any
	rs, err := e.db.Query("SHOW MASTER STATUS")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	if !rs.Next() {
		e.t.Skip("the server has no binlog")
	}
	dest := []any{&p.file, &p.pos, &doDB, &ignoreDB, &gtid}
	if err := rs.Scan(dest[:len(cols)]...); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// readBinlog reads the transactions written since from, in this file and
// the ones after it.
func (e *env) readBinlog(from binlogPos) []binlogTxn {
	e.t.Helper()
	var base string
	if err := e.db.QueryRow("SELECT @@log_bin_basename").Scan(&base); err != nil {
		e.t.Fatal(err)
	}
	var files []string
	rs, err := e.db.Query("SHOW BINARY LOGS")
	if err != nil {
		e.t.Fatal(err)
	}
	for rs.Next() {
		var name string
		var size any
		if err := rs.Scan(&name, &size); err != nil {
			e.t.Fatal(err)
		}
		if name >= from.file {
			files = append(files, name)
		}
	}
	rs.Close()
	var txns []binlogTxn
	for i, f := range files {
		off := int64(4)
		if i == 0 {
			off = from.pos
		}
		data, err := os.ReadFile(filepath.Join(filepath.Dir(base), f))
		if err != nil {
			e.t.Skipf("binlog file not readable here (the server is not local?): %v", err)
		}
		got, err := parseBinlog(data, off)
		if err != nil {
			e.t.Fatalf("%s: %v", f, err)
		}
		txns = append(txns, got...)
	}
	return txns
}

func parseBinlog(data []byte, off int64) ([]binlogTxn, error) {
	if len(data) < 4 || !bytes.Equal(data[:4], []byte{0xfe, 'b', 'i', 'n'}) {
		return nil, fmt.Errorf("not a binlog file")
	}
	var txns []binlogTxn
	var cur *binlogTxn
	r := bytes.NewReader(data)
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	for {
		var h [19]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return txns, nil // the end, or an event still being written
			}
			return nil, err
		}
		size := int64(binary.LittleEndian.Uint32(h[9:13]))
		if size < 19 {
			return nil, fmt.Errorf("event size %d", size)
		}
		body := make([]byte, size-19)
		if _, err := io.ReadFull(r, body); err != nil {
			return txns, nil
		}
		ev := binlogEvent{typ: h[4], flags: binary.LittleEndian.Uint16(h[17:19])}
		switch ev.typ {
		case evGTIDMariaDB:
			txns = append(txns, binlogTxn{})
			cur = &txns[len(txns)-1]
		case evTableMap:
			// post-header: table id (6), flags (2); then db and table,
			// each a length byte, the name and a NUL.
			if len(body) > 9 {
				n := int(body[8])
				ev.db = string(body[9 : 9+n])
				m := int(body[9+n+1])
				ev.table = string(body[9+n+2 : 9+n+2+m])
			}
		}
		if cur != nil {
			cur.events = append(cur.events, ev)
			if ev.typ == evXID || (ev.typ == evQuery && bytes.Contains(body, []byte("COMMIT"))) {
				cur = nil
			}
		}
	}
}

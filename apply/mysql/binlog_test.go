package mysql_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	driver "github.com/go-sql-driver/mysql"
)

// Reading the target's binlog over the replication protocol (go-mysql's
// BinlogSyncer), to show which transactions carry the skip_replication
// flag and in what order they touch tables.

const flagSkipReplica = 0x8000 // LOG_EVENT_SKIP_REPLICATION_F; go-mysql has no name for it

type binlogEvent struct {
	typ   replication.EventType
	flags uint16
	table string // db.table of a Table_map event
}

// binlogTxn is the events of one transaction, from its GTID event to its
// XID (or COMMIT query) event.
type binlogTxn struct{ events []binlogEvent }

func (t binlogTxn) allFlagged() bool {
	for _, e := range t.events {
		if e.flags&flagSkipReplica == 0 {
			return false
		}
	}
	return true
}

func (t binlogTxn) anyFlagged() bool {
	for _, e := range t.events {
		if e.flags&flagSkipReplica != 0 {
			return true
		}
	}
	return false
}

// tables lists the Table_map events' db.table in order.
func (t binlogTxn) tables() []string {
	var out []string
	for _, e := range t.events {
		if e.typ == replication.TABLE_MAP_EVENT {
			out = append(out, e.table)
		}
	}
	return out
}

// binlogPos is where the server's binlog ends now.
func (e *env) binlogPos() gomysql.Position {
	e.t.Helper()
	rs, err := e.db.Query("SHOW MASTER STATUS")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	if !rs.Next() {
		e.t.Skip("the server has no binlog")
	}
	var p gomysql.Position
	var pos uint64
	dest := []any{&p.Name, &pos}
	for len(dest) < len(cols) {
		dest = append(dest, new(any))
	}
	if err := rs.Scan(dest...); err != nil {
		e.t.Fatal(err)
	}
	p.Pos = uint32(pos)
	return p
}

// readBinlog reads the transactions written from from up to the binlog's
// end now.
func (e *env) readBinlog(from gomysql.Position) []binlogTxn {
	e.t.Helper()
	end := e.binlogPos()
	c, err := driver.ParseDSN(e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		e.t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 100000 + rand.Uint32N(1<<30), Flavor: gomysql.MariaDBFlavor,
		Host: host, Port: uint16(p), User: c.User, Password: c.Passwd,
		Logger: slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	stream, err := syncer.StartSync(from)
	if err != nil {
		e.t.Fatalf("start binlog sync: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var txns []binlogTxn
	var cur *binlogTxn
	file := from.Name
	for {
		ev, err := stream.GetEvent(ctx)
		if err != nil {
			e.t.Fatalf("read binlog: %v", err)
		}
		h := ev.Header
		b := binlogEvent{typ: h.EventType, flags: h.Flags}
		switch x := ev.Event.(type) {
		case *replication.RotateEvent:
			file = string(x.NextLogName)
			continue
		case *replication.MariadbGTIDEvent:
			txns = append(txns, binlogTxn{})
			cur = &txns[len(txns)-1]
		case *replication.TableMapEvent:
			b.table = string(x.Schema) + "." + string(x.Table)
		}
		if cur != nil {
			cur.events = append(cur.events, b)
			if _, ok := ev.Event.(*replication.XIDEvent); ok {
				cur = nil
			}
		}
		if file == end.Name && h.LogPos >= end.Pos {
			return txns
		}
	}
}

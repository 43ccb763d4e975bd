package mysql_test

import (
	"context"
	"os"
	"strings"
	"testing"

	capmy "github.com/bgsync/bgsync/capture/mysql"
	"github.com/bgsync/bgsync/internal/testenv"
)

// TestChooseForm: a MariaDB whose binlogs hold one GTID domain gets GTID
// positions; one holding two domains (the STATEMENT-format test server,
// given a transaction of a second domain here) and MySQL get file
// positions, with the reason.
func TestChooseForm(t *testing.T) {
	ctx := context.Background()
	blue := testenv.OpenMySQL(t, testenv.MyBlueDSN())
	f, why, err := capmy.ChooseForm(ctx, blue, capmy.FlavorMariaDB, "mysql-bin")
	if err != nil || !f.GTID || f.Domain != gtidDomain(t) || why != "" {
		t.Fatalf("blue: %+v %q %v, want GTIDs of domain %d", f, why, err, gtidDomain(t))
	}
	if f, why, err := capmy.ChooseForm(ctx, blue, capmy.FlavorMySQL, "binlog"); err != nil || f.GTID || f.Base != "binlog" || !strings.Contains(why, "MySQL") {
		t.Errorf("MySQL flavor: %+v %q %v, want file positions", f, why, err)
	}

	plainDSN := os.Getenv("BGSYNC_TEST_MY_PLAIN_DSN")
	if plainDSN == "" {
		plainDSN = "root:bgsync@tcp(127.0.0.1:13308)/"
	}
	plain := testenv.OpenMySQL(t, plainDSN)
	plain.SetMaxOpenConns(1)
	// A statement logged in domain 77 as well as the server's own.
	testenv.ExecMySQL(t, plain, "SET SESSION gtid_domain_id = 77",
		"CREATE DATABASE IF NOT EXISTS bgsync_second_domain", "DROP DATABASE bgsync_second_domain",
		"SET SESSION gtid_domain_id = DEFAULT")
	f, why, err = capmy.ChooseForm(ctx, plain, capmy.FlavorMariaDB, "mysql-bin")
	if err != nil || f.GTID || !strings.Contains(why, "77") || !strings.Contains(why, "domains") {
		t.Fatalf("two domains: %+v %q %v, want file positions naming the domains", f, why, err)
	}
}

// TestGTIDAt: the GTID position BINLOG_GTID_POS gives for the end of the
// binlog lies between the server's GTID position read before and after.
func TestGTIDAt(t *testing.T) {
	ctx := context.Background()
	blue := testenv.OpenMySQL(t, testenv.MyBlueDSN())
	form := capmy.Form{GTID: true, Domain: gtidDomain(t)}
	before, err := capmy.CurrentPositionIn(ctx, blue, form)
	if err != nil {
		t.Fatal(err)
	}
	file, off, err := capmy.BinlogStatus(ctx, blue)
	if err != nil {
		t.Fatal(err)
	}
	at, err := capmy.GTIDAt(ctx, blue, file, off, form.Domain)
	if err != nil {
		t.Fatal(err)
	}
	after, err := capmy.CurrentPositionIn(ctx, blue, form)
	if err != nil {
		t.Fatal(err)
	}
	if !capmy.IsGTID(at) || at < before || at > after {
		t.Errorf("GTIDAt(%s:%d) = %s, want between %s and %s", file, off, form.Format(at), form.Format(before), form.Format(after))
	}
	if _, err := capmy.GTIDAt(ctx, blue, file, off+1_000_000, form.Domain); err == nil {
		t.Error("GTIDAt past the end of the binlog: no error")
	}
}

package mysql

import (
	"strings"
	"testing"

	"github.com/bgsync/bgsync/change"
)

func TestFilter(t *testing.T) {
	hb := change.Table{Schema: "bgsync", Name: "heartbeats"}
	all := newFilter(&Config{Ignore: []string{"bgsync"}, Heartbeats: hb})
	listed := newFilter(&Config{Tables: map[change.Table]bool{{Schema: "shop", Name: "orders"}: true, {Schema: "shop", Name: "off"}: false}, Heartbeats: hb})
	for _, tc := range []struct {
		f    *filter
		t    change.Table
		want bool
	}{
		{all, change.Table{Schema: "shop", Name: "orders"}, true},
		{all, change.Table{Schema: "bgsync", Name: "checkpoints"}, false},
		{all, hb, true},
		{all, change.Table{Schema: "mysql", Name: "user"}, false},
		{listed, change.Table{Schema: "shop", Name: "orders"}, true},
		{listed, change.Table{Schema: "shop", Name: "off"}, false},
		{listed, change.Table{Schema: "shop", Name: "items"}, false},
		{listed, hb, true},
	} {
		if got := tc.f.captured(tc.t); got != tc.want {
			t.Errorf("captured(%s) = %v, want %v", tc.t, got, tc.want)
		}
	}
	if !listed.databaseCaptured("shop") || listed.databaseCaptured("other") || !all.databaseCaptured("other") || all.databaseCaptured("mysql") {
		t.Error("databaseCaptured")
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{DSN: "root:secret@tcp(127.0.0.1:3306)/", ServerID: 7}); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	_, err := New(Config{DSN: "root:secret@tcp(127.0.0.1:3306", Flavor: "oracle", Heartbeats: change.Table{Name: "hb"}})
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"DSN", "server_id", "flavor", "heartbeat"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

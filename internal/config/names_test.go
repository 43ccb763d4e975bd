package config_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bgsync/bgsync/internal/config"
)

func TestDerivedNames(t *testing.T) {
	tests := []struct {
		name                  string
		cfg                   config.Config
		slotBlue, slotGreen   string
		publication           string
		topicBlue, topicGreen string
	}{
		{"defaults", config.Config{}, "bgsync_blue", "bgsync_green", "bgsync", "bgsync.blue", "bgsync.green"},
		{"name", config.Config{Name: "shop"}, "shop_blue", "shop_green", "shop", "shop.blue", "shop.green"},
		{"topic prefix", config.Config{Name: "shop", Kafka: config.Kafka{TopicPrefix: "prod.cdc"}},
			"shop_blue", "shop_green", "shop", "prod.cdc.blue", "prod.cdc.green"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &tt.cfg
			got := []string{c.SlotName(config.Blue), c.SlotName(config.Green), c.PublicationName(), c.TopicName(config.Blue), c.TopicName(config.Green)}
			want := []string{tt.slotBlue, tt.slotGreen, tt.publication, tt.topicBlue, tt.topicGreen}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	t.Run("longest name fits PostgreSQL identifiers", func(t *testing.T) {
		c := &config.Config{Name: strings.Repeat("a", config.MaxNameLen)}
		if n := len(c.SlotName(config.Green)); n > 63-16 {
			t.Errorf("slot name is %d bytes: too little room left for suffixes", n)
		}
	})
}

func TestTables(t *testing.T) {
	c := &config.Config{TableList: []config.Table{
		{Name: "public.orders"},
		{Name: "Customers"},
		{Name: `Sales."LineItems"`},
		{Name: `"we""ird"."a.b"`},
		{Name: " spaced "},
		{Name: "bad name"},
	}}
	want := []config.TableRef{
		{Schema: "public", Name: "orders"},
		{Schema: "public", Name: "customers"},
		{Schema: "sales", Name: "LineItems"},
		{Schema: `we"ird`, Name: "a.b"},
		{Schema: "public", Name: "spaced"},
	}
	if diff := cmp.Diff(want, c.Tables()); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

func TestParseTableName(t *testing.T) {
	tests := []struct {
		in      string
		want    config.TableRef
		wantErr string
	}{
		{"orders", config.TableRef{Schema: "public", Name: "orders"}, ""},
		{"app.orders", config.TableRef{Schema: "app", Name: "orders"}, ""},
		{"App.Orders", config.TableRef{Schema: "app", Name: "orders"}, ""},
		{`"App"."Orders"`, config.TableRef{Schema: "App", Name: "Orders"}, ""},
		{"_t$1", config.TableRef{Schema: "public", Name: "_t$1"}, ""},
		{"café", config.TableRef{Schema: "public", Name: "café"}, ""},
		{`"a b"`, config.TableRef{Schema: "public", Name: "a b"}, ""},
		{"", config.TableRef{}, "empty table name"},
		{"a.b.c", config.TableRef{}, `too many dots in "a.b.c"; write schema.table`},
		{"a..b", config.TableRef{}, "empty name part"},
		{"a.", config.TableRef{}, "empty name part"},
		{".a", config.TableRef{}, "empty name part"},
		{"1abc", config.TableRef{}, `invalid character '1' in "1abc"; double-quote names with special characters`},
		{"a-b", config.TableRef{}, `invalid character '-' in "a-b"; double-quote names with special characters`},
		{`"abc`, config.TableRef{}, `unterminated quoted name "abc`},
		{`""`, config.TableRef{}, "empty quoted name"},
		{`"a"b`, config.TableRef{}, `unexpected "b" after "a"; double-quote names with special characters`},
		{strings.Repeat("x", 64), config.TableRef{}, `name "` + strings.Repeat("x", 64) + `" is longer than 63 bytes`},
		{"\xff", config.TableRef{}, "table name is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseTableName(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDirections(t *testing.T) {
	tests := []struct {
		d                 config.Directions
		fromBlue, fromGrn bool
	}{
		{config.BlueToGreen, true, false},
		{config.GreenToBlue, false, true},
		{config.Both, true, true},
		{"", false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.d), func(t *testing.T) {
			if got := tt.d.From(config.Blue); got != tt.fromBlue {
				t.Errorf("From(blue) = %v", got)
			}
			if got := tt.d.From(config.Green); got != tt.fromGrn {
				t.Errorf("From(green) = %v", got)
			}
		})
	}
	if config.Blue.Other() != config.Green || config.Green.Other() != config.Blue {
		t.Error("Other() is wrong")
	}
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo,
	} {
		t.Run(level, func(t *testing.T) {
			if got := (config.Log{Level: level}).SlogLevel(); got != want {
				t.Errorf("SlogLevel() = %v, want %v", got, want)
			}
		})
	}
}

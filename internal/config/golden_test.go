package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bgsync/bgsync/internal/config"
)

// configsDir holds the example configs shipped with bgsync.
var configsDir = filepath.Join("..", "..", "configs")

// TestShippedConfigs loads every configs/*.yaml: each must decode and
// validate without any env var and without connecting to anything.
func TestShippedConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(configsDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bgsync.example.yaml", "demo.yaml", "mariadb.example.yaml"} {
		if !containsBase(files, want) {
			t.Errorf("configs/%s is missing", want)
		}
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := config.ParseEnv(data, file, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Tables()) == 0 {
				t.Error("no tables")
			}
		})
	}
}

// TestExampleDocumentsEveryKey checks that bgsync.example.yaml mentions
// every key the format has.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(configsDir, "bgsync.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeFor[config.Config](), "") {
		name := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(string(data), name+":") {
			t.Errorf("bgsync.example.yaml does not document %s", key)
		}
	}
}

// yamlKeys lists the key paths of struct t.
func yamlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		path := prefix + name
		keys = append(keys, path)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			keys = append(keys, yamlKeys(ft, path+".")...)
		}
	}
	return keys
}

func containsBase(files []string, base string) bool {
	for _, f := range files {
		if filepath.Base(f) == base {
			return true
		}
	}
	return false
}

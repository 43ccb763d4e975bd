package change

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files from the current code")

const goldenPath = "testdata/values.golden"

// TestGoldenValues pins the canonical encoding: every line of the golden file
// must decode, re-encode byte for byte, and match the encoding of the same
// entry of sampleValues. Run with -update to regenerate after a deliberate
// format change (which is a new envelope version).
func TestGoldenValues(t *testing.T) {
	vals := sampleValues()
	if *update {
		var b bytes.Buffer
		b.WriteString("# Canonical encoding of change.Value, version 1: one value per line, name and hex.\n")
		b.WriteString("# Regenerate with: go test ./change/ -run TestGoldenValues -update\n")
		for _, tc := range vals {
			fmt.Fprintf(&b, "%s %x\n", tc.name, AppendValue(nil, tc.v))
		}
		if err := os.WriteFile(goldenPath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	defer f.Close()
	i := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, hx, ok := strings.Cut(text, " ")
		if !ok {
			t.Fatalf("%s:%d: want \"name hex\"", goldenPath, line)
		}
		t.Run(name, func(t *testing.T) {
			enc, err := hex.DecodeString(hx)
			if err != nil {
				t.Fatalf("line %d: %v", line, err)
			}
			v, n, err := DecodeValue(enc)
			if err != nil {
				t.Fatalf("line %d: %v", line, err)
			}
			if n != len(enc) {
				t.Fatalf("line %d: decoded %d of %d bytes", line, n, len(enc))
			}
			if re := AppendValue(nil, v); !bytes.Equal(re, enc) {
				t.Fatalf("line %d: re-encoded %x, golden %x", line, re, enc)
			}
			if i >= len(vals) || vals[i].name != name {
				t.Fatalf("line %d: golden entry %q does not match sampleValues[%d]", line, name, i)
			}
			if !Equal(v, vals[i].v) {
				t.Fatalf("line %d: golden decodes to %+v, sampleValues has %+v", line, v, vals[i].v)
			}
		})
		i++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(vals) {
		t.Fatalf("golden file has %d values, sampleValues %d (run with -update after adding one)", i, len(vals))
	}
}

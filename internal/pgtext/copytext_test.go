package pgtext

import (
	"bytes"
	"testing"
)

func TestSplitCopyLineRoundTrip(t *testing.T) {
	fields := [][]byte{[]byte("plain"), {}, nil, []byte("tab\there"), []byte("nl\nand\rcr"), []byte(`back\slash`), []byte("\\N"), []byte("é ✓")}
	var line []byte
	for i, f := range fields {
		if i > 0 {
			line = append(line, '\t')
		}
		if f == nil {
			line = append(line, `\N`...)
			continue
		}
		line = AppendCopyText(line, f)
	}
	got := SplitCopyLine(nil, line)
	if len(got) != len(fields) {
		t.Fatalf("%d fields, want %d: %q", len(got), len(fields), got)
	}
	for i := range fields {
		if (got[i] == nil) != (fields[i] == nil) || !bytes.Equal(got[i], fields[i]) {
			t.Errorf("field %d = %q (nil %v), want %q (nil %v)", i, got[i], got[i] == nil, fields[i], fields[i] == nil)
		}
	}
}

func TestSplitCopyLineEscapes(t *testing.T) {
	got := SplitCopyLine(nil, []byte(`\b\f\v\101\x41\x4a\q`))
	if want := "\b\f\vAAJq"; len(got) != 1 || string(got[0]) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := SplitCopyLine(nil, []byte("a\t")); len(got) != 2 || string(got[0]) != "a" || got[1] == nil || len(got[1]) != 0 {
		t.Fatalf("trailing empty field: got %q", got)
	}
}

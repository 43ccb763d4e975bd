package pipeline

import "testing"

func TestDrainIsNotReady(t *testing.T) {
	d := New(Config{Name: "blue-to-green"})
	if s := d.Stats().State; s != StateStarting {
		t.Fatalf("new direction: %s", s)
	}
	d.Drain()
	d.Drain() // twice is fine
	if s := d.Stats().State; s != StateDraining {
		t.Errorf("after Drain: %s, want %s", s, StateDraining)
	}
}

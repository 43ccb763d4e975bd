package gate

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

var th = Thresholds{MaxLag: 5 * time.Second, VerifyMaxAge: time.Hour, ErrorWindow: 5 * time.Minute}

// good is a state where both gates pass.
func good() Inputs {
	return Inputs{Now: now,
		BlueToGreen: Direction{Name: "blue-to-green", Configured: true, State: "running", Lag: time.Second},
		GreenToBlue: Direction{Name: "green-to-blue", Configured: true, State: "running", Lag: 2 * time.Second},
		Verify:      Verify{Known: true, Finished: now.Add(-10 * time.Minute), Status: "consistent"},
	}
}

func TestDecide(t *testing.T) {
	for _, c := range []struct {
		name   string
		kind   Kind
		change func(*Inputs)
		status string
		reason string // a reason must contain this ("" = no reasons)
	}{
		{"all good", Cutover, func(*Inputs) {}, Pass, ""},
		{"all good, rollback", Rollback, func(*Inputs) {}, Pass, ""},
		{"lag above the threshold", Cutover, func(in *Inputs) { in.BlueToGreen.Lag = 7 * time.Second }, Fail, "blue-to-green lag 7s is above the 5s allowed"},
		{"rollback reads the other lag", Rollback, func(in *Inputs) { in.BlueToGreen.Lag = 7 * time.Second }, Pass, ""},
		{"rollback lag", Rollback, func(in *Inputs) { in.GreenToBlue.Lag = 6 * time.Second }, Fail, "green-to-blue lag 6s"},
		{"way back down", Cutover, func(in *Inputs) {
			in.GreenToBlue.State, in.GreenToBlue.LastError = "retrying", "connect: refused"
		}, Fail, "green-to-blue is retrying (connect: refused): moving back would lose green's writes"},
		{"way back not configured", Cutover, func(in *Inputs) { in.GreenToBlue = Direction{Name: "green-to-blue"} }, Fail, "green-to-blue is not configured"},
		{"divergence", Cutover, func(in *Inputs) {
			in.Verify.Status, in.Verify.Divergent = "divergent", []string{"public.orders"}
		}, Fail, "divergent rows in public.orders"},
		{"stale verify", Cutover, func(in *Inputs) { in.Verify.Finished = now.Add(-2 * time.Hour) }, Fail, "the last verify finished 2h0m0s ago"},
		{"no verify yet", Cutover, func(in *Inputs) { in.Verify = Verify{} }, Pending, "no verify run is recorded"},
		{"unresolved conflict", Rollback, func(in *Inputs) { in.BlueToGreen.Unresolved = 2 }, Fail, "2 conflicts are unresolved"},
		{"dead letter", Cutover, func(in *Inputs) { in.GreenToBlue.DeadLetters = 1 }, Fail, "1 rows a transform could not map are in the dead_letters table"},
		{"paused", Cutover, func(in *Inputs) {
			in.BlueToGreen.State, in.BlueToGreen.LastError = "paused", "transform failed: table public.events"
		}, Fail, "blue-to-green is paused"},
		{"recent error", Cutover, func(in *Inputs) {
			in.GreenToBlue.LastErrorAt, in.GreenToBlue.LastError = now.Add(-time.Minute), "deadlock\ngoroutine"
		}, Fail, "green-to-blue failed 1m0s ago (within the 5m0s window): deadlock"},
		{"old error", Cutover, func(in *Inputs) { in.GreenToBlue.LastErrorAt = now.Add(-time.Hour) }, Pass, ""},
		{"starting", Cutover, func(in *Inputs) { in.BlueToGreen.State = "starting" }, Pending, "blue-to-green is starting"},
		{"fail beats pending", Cutover, func(in *Inputs) { in.Verify = Verify{}; in.BlueToGreen.Lag = time.Minute }, Fail, "lag 1m0s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.change(&in)
			v := Decide(c.kind, in, th)
			if v.Status != c.status || v.Safe != (c.status == Pass) {
				t.Fatalf("status %s safe %v, want %s; reasons %q", v.Status, v.Safe, c.status, v.Reasons)
			}
			joined := strings.Join(v.Reasons, "; ")
			if (c.reason == "") != (len(v.Reasons) == 0) || !strings.Contains(joined, c.reason) {
				t.Fatalf("reasons %q, want one containing %q", v.Reasons, c.reason)
			}
		})
	}
}

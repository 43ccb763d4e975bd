package gate

import (
	"fmt"
	"strings"
	"time"
)

// Kind is the move a gate judges.
type Kind string

const (
	Cutover  Kind = "cutover"
	Rollback Kind = "rollback"
)

// ParseKind reads "cutover" or "rollback".
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case Cutover, Rollback:
		return Kind(s), nil
	}
	return "", fmt.Errorf("unknown gate %q (want cutover or rollback)", s)
}

// Thresholds are the limits of the conditions.
type Thresholds struct {
	MaxLag       time.Duration `json:"max_lag"`
	VerifyMaxAge time.Duration `json:"verify_max_age"`
	ErrorWindow  time.Duration `json:"error_window"`
}

// Direction is what the gate needs of one direction.
type Direction struct {
	Name       string
	Configured bool
	// State is the direction's state (running, starting, retrying,
	// stopped); empty when not configured.
	State       string
	Lag         time.Duration
	LastError   string
	LastErrorAt time.Time
	Unresolved  int64
	// DeadLetters is the rows of the direction in the target's
	// dead_letters table not yet marked handled.
	DeadLetters int64
}

// Verify is the last verify run recorded.
type Verify struct {
	Known     bool
	Finished  time.Time
	Status    string   // consistent, divergent, unmeasured
	Divergent []string // tables with divergent rows
	// LastConsistent is when the last consistent run finished; zero if
	// none is recorded.
	LastConsistent time.Time
	// Tables are the last run's row counts per table, by class (matched,
	// missing_on_green, missing_on_blue, different, in_flight).
	Tables []TableRows
}

// TableRows is one table's row counts in a verify run.
type TableRows struct {
	Table string
	Rows  map[string]int64
}

// Inputs are the figures a decision reads.
type Inputs struct {
	Now                      time.Time
	BlueToGreen, GreenToBlue Direction
	Verify                   Verify
}

// Status values.
const (
	Pass    = "PASS"
	Fail    = "FAIL"
	Pending = "PENDING"
)

// Verdict is a gate's answer.
type Verdict struct {
	Gate    Kind           `json:"gate"`
	Status  string         `json:"status"`
	Safe    bool           `json:"safe"`
	Reasons []string       `json:"reasons"`
	Figures map[string]any `json:"figures"`
}

// Decide judges kind from in under th.
func Decide(kind Kind, in Inputs, th Thresholds) Verdict {
	forward, back := in.BlueToGreen, in.GreenToBlue
	if kind == Rollback {
		forward, back = back, forward
	}
	v := Verdict{Gate: kind, Reasons: []string{}, Figures: map[string]any{
		"max_lag_seconds":        th.MaxLag.Seconds(),
		"verify_max_age_seconds": th.VerifyMaxAge.Seconds(),
	}}
	fail := func(format string, args ...any) { v.Reasons = append(v.Reasons, "FAIL: "+fmt.Sprintf(format, args...)) }
	pending := func(format string, args ...any) {
		v.Reasons = append(v.Reasons, "PENDING: "+fmt.Sprintf(format, args...))
	}

	// The direction that carries the application's writes to the side it
	// moves to must be running and caught up.
	switch {
	case !forward.Configured:
		fail("%s is not configured: nothing carries %s's writes over", forward.Name, from(forward.Name))
	case forward.State == "starting":
		pending("%s is starting", forward.Name)
	case forward.State != "running":
		fail("%s is %s%s", forward.Name, forward.State, lastError(forward))
	default:
		v.Figures[key(forward.Name, "lag_seconds")] = forward.Lag.Seconds()
		if forward.Lag > th.MaxLag {
			fail("%s lag %s is above the %s allowed", forward.Name, round(forward.Lag), th.MaxLag)
		}
	}
	// The way back must run, or writes made after the move would be lost
	// by a move back.
	switch {
	case !back.Configured:
		fail("%s is not configured: writes made on %s after the %s would not reach %s, so moving back would lose them",
			back.Name, from(back.Name), kind, to(back.Name))
	case back.State == "starting":
		pending("%s is starting", back.Name)
	case back.State != "running":
		fail("%s is %s%s: moving back would lose %s's writes", back.Name, back.State, lastError(back), from(back.Name))
	default:
		v.Figures[key(back.Name, "lag_seconds")] = back.Lag.Seconds()
	}
	for _, d := range []Direction{forward, back} {
		if d.Configured && !d.LastErrorAt.IsZero() && in.Now.Sub(d.LastErrorAt) <= th.ErrorWindow {
			fail("%s failed %s ago (within the %s window): %s", d.Name, round(in.Now.Sub(d.LastErrorAt)), th.ErrorWindow, firstLine(d.LastError))
		}
	}
	unresolved := forward.Unresolved + back.Unresolved
	v.Figures["unresolved_conflicts"] = unresolved
	if unresolved > 0 {
		fail("%d conflicts are unresolved (bgsync conflicts list)", unresolved)
	}
	dead := forward.DeadLetters + back.DeadLetters
	v.Figures["dead_letters"] = dead
	if dead > 0 {
		fail("%d rows a transform could not map are in the dead_letters table and not handled (set handled_at once each is dealt with)", dead)
	}
	switch vf := in.Verify; {
	case !vf.Known:
		pending("no verify run is recorded yet (bgsync verify)")
	default:
		age := in.Now.Sub(vf.Finished)
		v.Figures["verify_age_seconds"] = age.Seconds()
		v.Figures["verify_status"] = vf.Status
		switch {
		case age > th.VerifyMaxAge:
			fail("the last verify finished %s ago, more than the %s allowed", round(age), th.VerifyMaxAge)
		case vf.Status == "divergent":
			fail("the last verify found divergent rows in %s", strings.Join(vf.Divergent, ", "))
		case vf.Status != "consistent":
			fail("the last verify could not measure (status %s)", vf.Status)
		}
	}

	v.Status = Pass
	for _, r := range v.Reasons {
		if strings.HasPrefix(r, "FAIL") {
			v.Status = Fail
			break
		}
		v.Status = Pending
	}
	v.Safe = v.Status == Pass
	return v
}

// OneLine is the verdict in one line, for a Flagger webhook or a log.
func (v Verdict) OneLine() string {
	if len(v.Reasons) == 0 {
		return fmt.Sprintf("%s %s: every condition met", v.Gate, v.Status)
	}
	return fmt.Sprintf("%s %s: %s", v.Gate, v.Status, strings.Join(v.Reasons, "; "))
}

func key(dir, what string) string { return strings.ReplaceAll(dir, "-", "_") + "_" + what }

// from and to read a direction name "blue-to-green".
func from(dir string) string { s, _, _ := strings.Cut(dir, "-to-"); return s }
func to(dir string) string   { _, s, _ := strings.Cut(dir, "-to-"); return s }

func lastError(d Direction) string {
	if d.LastError == "" {
		return ""
	}
	return " (" + firstLine(d.LastError) + ")"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bgsync/bgsync/gate"
	"github.com/bgsync/bgsync/internal/pipeline"
)

// GateOptions is what the gate endpoints need besides the stats.
type GateOptions struct {
	// Thresholds are the configured limits; query parameters max_lag,
	// verify_max_age and error_window override them per request.
	Thresholds gate.Thresholds
	// LastVerify reads the last recorded verify run. An error makes the
	// verify condition unmeasured (PENDING), named in the reasons.
	LastVerify func(ctx context.Context) (gate.Verify, error)
}

// decide judges kind with the thresholds of the request's query.
func decide(r *http.Request, opts Options, kind gate.Kind) (gate.Verdict, error) {
	th := opts.Gate.Thresholds
	for _, p := range []struct {
		name string
		dst  *time.Duration
	}{{"max_lag", &th.MaxLag}, {"verify_max_age", &th.VerifyMaxAge}, {"error_window", &th.ErrorWindow}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return gate.Verdict{}, fmt.Errorf("query parameter %s=%q: want a duration such as 5s", p.name, v)
			}
			*p.dst = d
		}
	}
	return Decide(r.Context(), opts, kind, th), nil
}

// Decide gathers the figures (direction stats, the last verify run) and
// judges kind under th.
func Decide(ctx context.Context, opts Options, kind gate.Kind, th gate.Thresholds) gate.Verdict {
	if opts.Scrub == nil {
		opts.Scrub = func(s string) string { return s }
	}
	in := gate.Inputs{Now: time.Now(),
		BlueToGreen: gate.Direction{Name: "blue-to-green"},
		GreenToBlue: gate.Direction{Name: "green-to-blue"},
	}
	for _, s := range opts.Stats() {
		d := direction(s, opts.Scrub)
		switch s.Direction {
		case in.BlueToGreen.Name:
			in.BlueToGreen = d
		case in.GreenToBlue.Name:
			in.GreenToBlue = d
		}
	}
	var verifyErr error
	if opts.Gate.LastVerify != nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		in.Verify, verifyErr = opts.Gate.LastVerify(ctx)
		cancel()
	}
	v := gate.Decide(kind, in, th)
	if verifyErr != nil { // say why no verify is known, instead of "none recorded"
		for i, r := range v.Reasons {
			if strings.Contains(r, "no verify run is recorded") {
				v.Reasons[i] = "PENDING: cannot read the last verify run: " + opts.Scrub(verifyErr.Error())
			}
		}
	}
	return v
}

func direction(s pipeline.Stats, scrub func(string) string) gate.Direction {
	return gate.Direction{Name: s.Direction, Configured: true, State: string(s.State), Lag: s.Lag,
		LastError: scrub(s.LastError), LastErrorAt: s.LastErrorAt, Unresolved: s.Unresolved, DeadLetters: s.DeadLetters}
}

// gateJSON answers GET /v1/gate/{cutover,rollback}: always 200 with the
// verdict (the Argo Rollouts web provider and Spinnaker read the body);
// 400 only for a malformed query.
func gateJSON(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, err := gate.ParseKind(r.PathValue("gate"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		v, err := decide(r, opts, kind)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	})
}

// flagger answers Flagger's webhooks by status code and one line:
// POST /v1/flagger/cutover: 200 when cutover is safe, else 412;
// POST /v1/flagger/rollback: 200 when a rollback is warranted (cutover is
// not safe and rollback is), else 412.
func flagger(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, err := gate.ParseKind(r.PathValue("gate"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		cut, err := decide(r, opts, gate.Cutover)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ok, line := cut.Safe, cut.OneLine()
		if kind == gate.Rollback {
			back, _ := decide(r, opts, gate.Rollback)
			ok = !cut.Safe && back.Safe
			line = fmt.Sprintf("rollback warranted: %v; %s; %s", ok, cut.OneLine(), back.OneLine())
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusPreconditionFailed)
		}
		fmt.Fprintln(w, strings.ReplaceAll(line, "\n", " "))
	})
}

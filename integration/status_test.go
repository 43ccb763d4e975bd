package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"
)

var httpAddrRE = regexp.MustCompile(`"msg":"http server listening","addr":"([^"]+)"`)

// httpGet fetches path from the running process's HTTP server.
func (p *proc) httpGet(path string) ([]byte, error) {
	m := httpAddrRE.FindStringSubmatch(p.output())
	if m == nil {
		return nil, fmt.Errorf("%s logged no http server address", p.label)
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + m[1] + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// dirStatus is one direction of /v1/status, as far as the tests read it.
type dirStatus struct {
	Name          string     `json:"name"`
	State         string     `json:"state"`
	LastError     string     `json:"last_error"`
	DeadLetters   int64      `json:"dead_letters_pending"`
	DeadLettered  uint64     `json:"dead_lettered"`
	TransformErrs uint64     `json:"transform_errors"`
	Unresolved    *int64     `json:"unresolved_conflicts"`
	Lag           float64    `json:"lag_seconds"`
	LagP99        float64    `json:"lag_p99_seconds"`
	Heartbeats    uint64     `json:"heartbeats"`
	LastHeartbeat *time.Time `json:"last_heartbeat"`
	Retained      int64      `json:"source_retained_bytes"`
	WALStatus     string     `json:"slot_wal_status"`
	Applied       struct {
		Transactions uint64 `json:"transactions"`
	} `json:"applied"`
}

// status reads /v1/status's directions by name.
func (p *proc) status() (map[string]dirStatus, error) {
	b, err := p.httpGet("/v1/status")
	if err != nil {
		return nil, err
	}
	var body struct {
		Directions []dirStatus `json:"directions"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, err
	}
	out := map[string]dirStatus{}
	for _, d := range body.Directions {
		out[d.Name] = d
	}
	return out, nil
}

// unresolvedConflicts reads the running process's /v1/status and returns
// the sum of unresolved_conflicts over its directions.
func (p *proc) unresolvedConflicts() (int64, error) {
	dirs, err := p.status()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, d := range dirs {
		if d.Unresolved == nil {
			return 0, fmt.Errorf("/v1/status: direction %s has no unresolved_conflicts", d.Name)
		}
		n += *d.Unresolved
	}
	return n, nil
}

// waitUnresolved polls /v1/status until its unresolved count is want.
func (p *proc) waitUnresolved(want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var got int64
	var err error
	for time.Now().Before(deadline) {
		if got, err = p.unresolvedConflicts(); err == nil && got == want {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("/v1/status reports %d unresolved conflicts after %s, want %d", got, timeout, want)
}

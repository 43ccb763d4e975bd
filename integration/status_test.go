package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

var httpAddrRE = regexp.MustCompile(`"msg":"http server listening","addr":"([^"]+)"`)

// unresolvedConflicts reads the running process's /v1/status and returns
// the sum of unresolved_conflicts over its directions.
func (p *proc) unresolvedConflicts() (int64, error) {
	m := httpAddrRE.FindStringSubmatch(p.output())
	if m == nil {
		return 0, fmt.Errorf("%s logged no http server address", p.label)
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + m[1] + "/v1/status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /v1/status: %s", resp.Status)
	}
	var body struct {
		Directions []struct {
			Name       string `json:"name"`
			Unresolved *int64 `json:"unresolved_conflicts"`
		} `json:"directions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	var n int64
	for _, d := range body.Directions {
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

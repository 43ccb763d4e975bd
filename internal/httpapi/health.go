package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/bgsync/bgsync/internal/pipeline"
)

// livez answers while the process serves HTTP; it looks at nothing else.
func livez(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// readyz answers 200 when every direction is running, else 503 naming
// each direction that is not, its state and its last error.
func readyz(opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		stats := opts.Stats()
		if len(stats) == 0 {
			writeText(w, http.StatusServiceUnavailable, "no directions\n")
			return
		}
		var b strings.Builder
		for _, s := range stats {
			if s.State == pipeline.StateRunning {
				continue
			}
			fmt.Fprintf(&b, "%s: %s", s.Direction, s.State)
			if s.LastError != "" {
				fmt.Fprintf(&b, ": %s", firstLine(opts.Scrub(s.LastError)))
			}
			b.WriteByte('\n')
		}
		if b.Len() > 0 {
			writeText(w, http.StatusServiceUnavailable, b.String())
			return
		}
		writeText(w, http.StatusOK, "ok\n")
	})
}

// firstLine keeps a one-line answer one line per direction: a panic's
// error carries its stack on the following lines.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

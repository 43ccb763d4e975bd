package metrics

import (
	"fmt"

	"github.com/bgsync/bgsync/internal/pipeline"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Register installs bgsync's metrics on reg: the direction metrics, read
// from stats at every scrape, bgsync_build_info for version, and the
// standard Go runtime and process collectors. It fails if reg already
// holds any of them.
func Register(reg prometheus.Registerer, stats func() []pipeline.Stats, version string) error {
	for _, c := range []prometheus.Collector{
		newSnapshotCollector(stats, version),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

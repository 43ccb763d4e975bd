// Package metrics defines every bgsync Prometheus metric and registers
// them on a registry the caller owns; nothing here touches the default
// registry.
//
// Contract:
//   - defs.go is the one table of metric names, help texts and labels.
//     Values are in base units (seconds, counts); counters end in _total.
//   - The pipeline makes no metrics calls. Register installs a collector
//     that calls the stats function at scrape time and turns each
//     pipeline.Stats snapshot into const metrics, so a scrape always shows
//     one consistent snapshot per direction and costs the pipeline nothing
//     between scrapes. The stats function must be safe to call from any
//     goroutine (Direction.Stats is).
//   - Counters come from the Stats totals, which count from the start of the
//     process: a restart of bgsync resets them, as Prometheus expects.
//   - A gauge with no meaningful value (no commit applied yet) is omitted,
//     not reported as 0; a conflict series appears once its count exists.
//   - Register also installs the standard Go runtime and process collectors.
//
// Usage:
//
//	reg := prometheus.NewRegistry()
//	stats := func() []pipeline.Stats { return []pipeline.Stats{d.Stats()} }
//	if err := metrics.Register(reg, stats, buildinfo.Version); err != nil { ... }
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
package metrics

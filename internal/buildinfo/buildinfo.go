// Package buildinfo holds the version stamped in at link time
// (-X github.com/bgsync/bgsync/internal/buildinfo.Version=...).
package buildinfo

import "runtime/debug"

// Version is set by the linker; "dev" otherwise.
var Version = "dev"

// Commit returns the VCS revision recorded by the Go toolchain, if any.
func Commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

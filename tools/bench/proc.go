package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Linux reports process and machine CPU time in USER_HZ ticks, 100 per
// second on every architecture Go supports here.
const ticksPerSec = 100

// procStat returns the parent pid and utime+stime (ticks) of pid.
func procStat(pid int) (ppid int, ticks uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return ppid, ut + st, nil
}

// cpuSeconds is utime+stime of pid in seconds.
func cpuSeconds(pid int) (float64, error) {
	_, t, err := procStat(pid)
	return float64(t) / ticksPerSec, err
}

// vmHWM is the peak resident set size of pid in KiB.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuMeter splits CPU time during a drain between the sync engine's own
// process, the blue cluster, the green cluster and the whole machine. A
// cluster is its postmaster and the postmaster's children (walsender,
// apply worker, backends, checkpointer...).
type cpuMeter struct {
	bluePM, greenPM int
}

func newCPUMeter(ctx context.Context, blue, green *pgx.Conn) (*cpuMeter, error) {
	m := &cpuMeter{}
	for _, x := range []struct {
		conn *pgx.Conn
		pm   *int
	}{{blue, &m.bluePM}, {green, &m.greenPM}} {
		var pid int
		if err := x.conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return nil, err
		}
		ppid, _, err := procStat(pid) // a backend's parent is the postmaster
		if err != nil {
			return nil, fmt.Errorf("cluster not on this host? %w", err)
		}
		*x.pm = ppid
	}
	return m, nil
}

type cpuSnap struct {
	at          time.Time
	blue, green map[int]uint64 // pid → ticks
	engine      uint64
	busy, total uint64 // machine
}

func (m *cpuMeter) snap(enginePID int) cpuSnap {
	s := cpuSnap{at: time.Now(), blue: map[int]uint64{}, green: map[int]uint64{}}
	if enginePID > 0 {
		_, s.engine, _ = procStat(enginePID)
	}
	if m != nil {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			ppid, t, err := procStat(pid)
			if err != nil {
				continue
			}
			switch {
			case pid == m.bluePM || ppid == m.bluePM:
				s.blue[pid] = t
			case pid == m.greenPM || ppid == m.greenPM:
				s.green[pid] = t
			}
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i := 1; i < len(f) && i <= 8; i++ { // user nice system idle iowait irq softirq steal
			v, _ := strconv.ParseUint(f[i], 10, 64)
			s.total += v
			if i != 4 && i != 5 {
				s.busy += v
			}
		}
	}
	return s
}

// cpuUse is CPU seconds used between two snapshots.
type cpuUse struct {
	wall                         float64
	engine, blue, green, machine float64
	machineAvail                 float64 // wall × cores
	perCluster                   bool
}

func (m *cpuMeter) use(a, b cpuSnap) cpuUse {
	delta := func(x, y map[int]uint64) float64 {
		var d uint64
		for pid, t := range y {
			if t0, ok := x[pid]; ok && t0 <= t {
				d += t - t0
			} else if !ok {
				d += t // started during the interval
			}
		}
		return float64(d) / ticksPerSec
	}
	u := cpuUse{
		wall:         b.at.Sub(a.at).Seconds(),
		engine:       float64(b.engine-min(a.engine, b.engine)) / ticksPerSec,
		blue:         delta(a.blue, b.blue),
		green:        delta(a.green, b.green),
		machine:      float64(b.busy-a.busy) / ticksPerSec,
		machineAvail: float64(b.total-a.total) / ticksPerSec,
		perCluster:   m != nil,
	}
	return u
}

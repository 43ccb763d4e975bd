package apply

import "github.com/bgsync/bgsync/change"

// TakeHeartbeats removes the changes to the source's heartbeat table hb
// from txns, returning the transactions to apply, the beats' sequence
// numbers in order, and how many transactions carried nothing but beats.
// Transactions without beats are passed through as they are; the others
// are copied, so a retry sees the group unchanged. A zero hb takes nothing.
//
// Heartbeats are never written to the target: a writer times them once
// the target transaction that covers them commits (Result.Heartbeats).
func TakeHeartbeats(txns []*change.Txn, hb change.Table) (out []*change.Txn, seqs []int64, beatOnly int) {
	if hb.Name == "" {
		return txns, nil, 0
	}
	out = txns
	copied := false
	for i, t := range txns {
		n := 0
		for j := range t.Changes {
			if t.Changes[j].Table == hb {
				n++
			}
		}
		if n == 0 {
			continue
		}
		if !copied { // copy the slice before its first edit
			out, copied = append(txns[:0:0], txns...), true
		}
		kept := make([]change.Change, 0, len(t.Changes)-n)
		for j := range t.Changes {
			c := &t.Changes[j]
			if c.Table != hb {
				kept = append(kept, *c)
				continue
			}
			if seq, ok := beatSeq(c); ok {
				seqs = append(seqs, seq)
			}
		}
		if len(kept) == 0 {
			beatOnly++
		}
		cp := *t
		cp.Changes = kept
		out[i] = &cp
	}
	return out, seqs, beatOnly
}

// beatSeq reads the seq column of a heartbeat's new row (a signed integer
// from PostgreSQL, possibly unsigned from MySQL).
func beatSeq(c *change.Change) (int64, bool) {
	if c.After == nil {
		return 0, false
	}
	for i, col := range c.Columns {
		if col.Name == "seq" && i < len(c.After) {
			switch v := c.After[i]; v.Kind {
			case change.KindInt:
				return v.I, true
			case change.KindUint:
				return int64(v.Uint()), true
			}
		}
	}
	return 0, false
}

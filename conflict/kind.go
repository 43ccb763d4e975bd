package conflict

import "fmt"

// Kind classifies a conflict.
type Kind uint8

const (
	None Kind = iota
	InsertExists
	UpdateMissing
	UpdateDiffers
	DeleteMissing
	DeleteDiffers
	// InsertDeleted: the target deleted the key at or after the incoming
	// insert's commit (a tombstone says when).
	InsertDeleted
)

var kindNames = [...]string{"none", "insert_exists", "update_missing", "update_differs", "delete_missing", "delete_differs", "insert_deleted"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Policy decides conflicts of a table.
type Policy uint8

const (
	LastWriterWins Policy = iota + 1
	BlueWins
	GreenWins
	Manual
	// ColumnMerge decides two writes of a row column by column: each
	// column the incoming change modified is written unless the target
	// wrote that column itself later (Input.ColumnTimes); the target's
	// other columns stay. Row-level events (a delete, a missing row) are
	// decided as under LastWriterWins.
	ColumnMerge
)

var policyNames = map[Policy]string{
	LastWriterWins: "last-writer-wins",
	BlueWins:       "blue-wins",
	GreenWins:      "green-wins",
	Manual:         "manual",
	ColumnMerge:    "column-merge",
}

func (p Policy) String() string {
	if s, ok := policyNames[p]; ok {
		return s
	}
	return fmt.Sprintf("policy(%d)", p)
}

// ParsePolicy reads a policy name as written in the config.
func ParsePolicy(s string) (Policy, error) {
	for p, name := range policyNames {
		if name == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown conflict policy %q (want last-writer-wins, blue-wins, green-wins, column-merge or manual)", s)
}

// Side is where a change was written.
type Side uint8

const (
	Blue Side = iota + 1
	Green
)

func (s Side) String() string {
	switch s {
	case Blue:
		return "blue"
	case Green:
		return "green"
	}
	return fmt.Sprintf("side(%d)", s)
}

// Resolution is how a conflict ended.
type Resolution uint8

const (
	// Applied: no conflict; the change applies as it is.
	Applied Resolution = iota
	// IncomingWins: the target now holds the incoming change's outcome.
	IncomingWins
	// TargetWins: the target keeps its row; the incoming change is dropped.
	TargetWins
	// Converged: the target already holds the incoming change's outcome.
	Converged
	// Unresolved: left as it is for a person to decide (manual policy, or
	// a row that cannot be completed).
	Unresolved
	// Merged: some of the incoming change's columns were written, and the
	// target kept columns of its own (column-merge).
	Merged
)

var resolutionNames = [...]string{"applied", "incoming_wins", "target_wins", "converged", "unresolved", "merged"}

func (r Resolution) String() string {
	if int(r) < len(resolutionNames) {
		return resolutionNames[r]
	}
	return fmt.Sprintf("resolution(%d)", r)
}

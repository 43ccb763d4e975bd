package change

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is a source position, totally ordered within one source. For
// PostgreSQL it is an LSN (the end of a transaction's commit record).
type Position uint64

// String renders the position the way PostgreSQL prints an LSN (X/X).
func (p Position) String() string {
	return fmt.Sprintf("%X/%X", uint32(p>>32), uint32(p))
}

// ParsePosition parses the X/X form written by String.
func ParsePosition(s string) (Position, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("position %q: want X/X", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("position %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("position %q: %w", s, err)
	}
	return Position(h<<32 | l), nil
}

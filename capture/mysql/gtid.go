package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/bgsync/bgsync/change"
)

// A GTID position is MariaDB's GTID domain-server-seq of a transaction,
// packed into one change.Position so that the target's checkpoint can keep
// comparing positions as numbers:
//
//	bit 62          set: a GTID position (file positions never reach it)
//	bits 61..21     the sequence number (41 bits: up to 2,199,023,255,551)
//	bits 20..0      the server_id that wrote it (21 bits: up to 2,097,151)
//
// The domain is not packed: a capture follows one domain, named by its
// Form. Within a domain the sequence number increases with every
// transaction, on whichever server of the replication topology writes it
// (gtid_strict_mode=ON makes the server refuse anything else), so GTID
// positions are ordered by it across a failover, where file names and
// offsets start again. The server_id is kept because MariaDB resumes a
// stream from a whole GTID: 0-1-100 and 0-2-100 are different places.
const (
	gtidTag     = uint64(1) << 62
	gtidSeqBits = 41
	gtidSIDBits = 21
	gtidMaxSeq  = uint64(1)<<gtidSeqBits - 1
	gtidMaxSID  = uint64(1)<<gtidSIDBits - 1
)

// GTID is one MariaDB global transaction id.
type GTID struct {
	Domain, ServerID uint32
	Seq              uint64
}

func (g GTID) String() string { return fmt.Sprintf("%d-%d-%d", g.Domain, g.ServerID, g.Seq) }

// IsGTID reports whether p is a GTID position (GTIDPosition), as opposed
// to a binlog file/offset one (PositionOf).
func IsGTID(p change.Position) bool { return uint64(p)&gtidTag != 0 }

// GTIDPosition packs g's server_id and sequence number; the zero GTID
// (an empty binlog: nothing to resume after) packs to the bare tag.
func GTIDPosition(g GTID) (change.Position, error) {
	if g.Seq > gtidMaxSeq {
		return 0, fmt.Errorf("GTID %s: sequence number above %d, the most a bgsync GTID position holds: use file positions (bgsync setup records them when the source logs more than one GTID domain)", g, gtidMaxSeq)
	}
	if uint64(g.ServerID) > gtidMaxSID {
		return 0, fmt.Errorf("GTID %s: server_id above %d, the most a bgsync GTID position holds: give the source a smaller server_id, or use file positions", g, gtidMaxSID)
	}
	return change.Position(gtidTag | g.Seq<<gtidSIDBits | uint64(g.ServerID)), nil
}

// gtidOf unpacks a GTID position of domain.
func gtidOf(p change.Position, domain uint32) GTID {
	return GTID{Domain: domain, ServerID: uint32(uint64(p) & gtidMaxSID), Seq: uint64(p) &^ gtidTag >> gtidSIDBits}
}

// ParseGTID parses "domain-server-seq".
func ParseGTID(s string) (GTID, error) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 3 {
		return GTID{}, fmt.Errorf("GTID %q: want domain-server_id-sequence, e.g. 0-1-100", s)
	}
	var n [3]uint64
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil || (i < 2 && v > 1<<32-1) {
			return GTID{}, fmt.Errorf("GTID %q: %q is not a number in range", s, p)
		}
		n[i] = v
	}
	return GTID{Domain: uint32(n[0]), ServerID: uint32(n[1]), Seq: n[2]}, nil
}

// Form says how a source's positions print: file/offset in binlog files
// named Base ("mysql-bin"), or, for GTID positions, GTIDs of Domain.
type Form struct {
	Base   string
	GTID   bool
	Domain uint32
}

// Format prints p: "0-1-100" for a GTID position ("0-0-0" before the
// first transaction of the domain), "mysql-bin.000003:1234" otherwise.
func (f Form) Format(p change.Position) string {
	if IsGTID(p) {
		return gtidOf(p, f.Domain).String()
	}
	return FormatPosition(p, f.Base)
}

// ParsePosition parses either form Form.Format prints, "mysql-bin.000003:1234"
// or "0-1-100", returning the position and its form (Base, or GTID and
// Domain).
func ParsePosition(s string) (change.Position, Form, error) {
	if !strings.Contains(s, ":") && strings.Count(s, "-") == 2 {
		g, err := ParseGTID(s)
		if err != nil {
			return 0, Form{}, err
		}
		p, err := GTIDPosition(g)
		return p, Form{GTID: true, Domain: g.Domain}, err
	}
	p, base, err := parseFilePosition(s)
	return p, Form{Base: base}, err
}

// GTIDState reads a server's @@gtid_binlog_pos: the last GTID it logged in
// each domain.
func GTIDState(ctx context.Context, q Querier) (map[uint32]GTID, error) {
	var s sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&s); err != nil {
		return nil, err
	}
	return parseGTIDList(s.String)
}

// parseGTIDList parses a comma-separated GTID list, one per domain, as
// MariaDB prints gtid_binlog_pos and BINLOG_GTID_POS.
func parseGTIDList(s string) (map[uint32]GTID, error) {
	out := map[uint32]GTID{}
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		g, err := ParseGTID(part)
		if err != nil {
			return nil, err
		}
		if _, dup := out[g.Domain]; dup {
			return nil, fmt.Errorf("GTID list %q: domain %d twice", s, g.Domain)
		}
		out[g.Domain] = g
	}
	return out, nil
}

// gtidPositionIn is the GTID position of domain in a GTID list (the zero
// GTID's when the domain is absent: nothing logged in it yet).
func gtidPositionIn(list map[uint32]GTID, domain uint32) (change.Position, error) {
	g, ok := list[domain]
	if !ok {
		g = GTID{Domain: domain}
	}
	return GTIDPosition(g)
}

// CurrentPositionIn is the server's current position in form f: the last
// GTID of f.Domain it logged, or the end of its current binlog file.
func CurrentPositionIn(ctx context.Context, q Querier, f Form) (change.Position, error) {
	if !f.GTID {
		file, off, err := BinlogStatus(ctx, q)
		if err != nil {
			return 0, err
		}
		if file == "" {
			return 0, errors.New("binary logging is off")
		}
		return PositionOf(file, off)
	}
	state, err := GTIDState(ctx, q)
	if err != nil {
		return 0, err
	}
	return gtidPositionIn(state, f.Domain)
}

// GTIDAt converts a binlog file and offset (an event boundary) into the
// GTID position of domain there, with MariaDB's BINLOG_GTID_POS: the last
// GTID of the domain logged before that point.
func GTIDAt(ctx context.Context, q Querier, file string, offset uint32, domain uint32) (change.Position, error) {
	var s sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", file, offset).Scan(&s); err != nil {
		return 0, err
	}
	if !s.Valid {
		return 0, fmt.Errorf("BINLOG_GTID_POS(%s, %d) is NULL: not a position in the server's binary logs", file, offset)
	}
	list, err := parseGTIDList(s.String)
	if err != nil {
		return 0, err
	}
	return gtidPositionIn(list, domain)
}

// ChooseForm decides how positions of a source are recorded: GTID
// positions on MariaDB when its binary logs hold at most one GTID domain
// (that domain, or gtid_domain_id on a server that logged none yet); file
// positions otherwise, with the reason. MySQL's GTID sets (one interval
// set per server UUID) do not fit one ordered number: file positions.
func ChooseForm(ctx context.Context, q Querier, flavor, base string) (Form, string, error) {
	if flavor == FlavorMySQL {
		return Form{Base: base}, "MySQL GTID sets are not followed: file positions", nil
	}
	state, err := GTIDState(ctx, q)
	if err != nil {
		return Form{}, "", fmt.Errorf("read gtid_binlog_pos: %w", err)
	}
	switch len(state) {
	case 0:
		var domain, serverID uint32
		if err := q.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_domain_id, @@GLOBAL.server_id").Scan(&domain, &serverID); err != nil {
			return Form{}, "", fmt.Errorf("read gtid_domain_id: %w", err)
		}
		if _, err := GTIDPosition(GTID{Domain: domain, ServerID: serverID}); err != nil {
			return Form{Base: base}, err.Error(), nil
		}
		return Form{Base: base, GTID: true, Domain: domain}, "", nil
	case 1:
		for d, g := range state {
			if _, err := GTIDPosition(g); err != nil {
				return Form{Base: base}, err.Error(), nil
			}
			return Form{Base: base, GTID: true, Domain: d}, "", nil
		}
	}
	var domains []string
	for _, d := range slices.Sorted(maps.Keys(state)) {
		domains = append(domains, strconv.FormatUint(uint64(d), 10))
	}
	return Form{Base: base}, fmt.Sprintf("the binary logs hold GTIDs of %d domains (%s), and bgsync follows one: file positions (a failover is not followed)", len(state), strings.Join(domains, ", ")), nil
}

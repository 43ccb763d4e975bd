package transform

import (
	"time"

	"github.com/bgsync/bgsync/change"
)

// Implicit returns the mapping of a table no transform is configured for,
// between two engines (PostgreSQL and MariaDB/MySQL): each source column
// is copied to the target column of the same name, its value converted
// to the kind the target column's own engine gives it — a TINYINT(1)'s
// 0/1 and a boolean, MariaDB's JSON text and json/jsonb (in jsonb's
// stored form), DATETIME and timestamptz through UTC, BIGINT UNSIGNED and
// numeric, ENUM and text — so that a before image is compared with the
// target's row like with like. It never fails to compile: a pair of types
// with no conversion passes the value unchanged, and a source column the
// target lacks is passed on, for the applier to report, as it would be
// without a mapping. Values that cannot be converted (a 5 in a
// TINYINT(1) bound for a boolean) are *RowErrors with Implicit set.
// When nothing needs converting the Mapping is an Identity.
func Implicit(source, target change.Table, src, dst []Column) *Mapping {
	m := &Mapping{source: source, target: target, zone: time.UTC, implicit: true}
	m.setInputs(src)
	byName := make(map[string]Column, len(dst))
	for _, c := range dst {
		byName[c.Name] = c
	}
	for i, sc := range src {
		c, ok := byName[sc.Name]
		if !ok {
			m.out = append(m.out, outCol{col: sc, src: i})
			continue
		}
		if ok, _ := copyableCol(sc, c); !ok {
			m.out = append(m.out, outCol{col: c, src: i}) // as it is: the target converts it, or says why not
			continue
		}
		m.out = append(m.out, copyCol(sc, c, i))
	}
	m.finish()
	return m
}

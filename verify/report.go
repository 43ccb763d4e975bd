package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Class is what verify found of one row.
type Class uint8

const (
	Matched Class = iota
	MissingOnGreen
	MissingOnBlue
	Different
	// InFlight: different when first read, equal once the sync had
	// applied what was committed then.
	InFlight
)

var classNames = [...]string{"matched", "missing_on_green", "missing_on_blue", "different", "in_flight"}

func (c Class) String() string { return classNames[c] }

// diff is one differing row's class and, for Different, the columns.
type diff struct {
	class   Class
	columns []string
	// blue is the hash of blue's row at the last read (blueOK: there was
	// one): green catching up to it is in flight, even if blue has moved
	// on since.
	blue   uint64
	blueOK bool
	// err is why the row could not be compared (the transform failed
	// on it), "" if it could.
	err string
}

// Sample is one key of a class, with the columns that differ (by their
// names on green), or the error that kept the row from being compared.
type Sample struct {
	Key     string   `json:"key"`
	Columns []string `json:"columns,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Table is one table's result.
type Table struct {
	Name string `json:"table"` // on blue
	// Green is the table's name on green, when it differs.
	Green          string `json:"green_table,omitempty"`
	BlueRows       int64  `json:"rows_blue"`
	GreenRows      int64  `json:"rows_green"`
	Matched        int64  `json:"matched"`
	MissingOnGreen int64  `json:"missing_on_green"`
	MissingOnBlue  int64  `json:"missing_on_blue"`
	Different      int64  `json:"different"`
	InFlight       int64  `json:"in_flight"`
	// Samples lists up to Options.Sample keys per class.
	Samples map[string][]Sample `json:"samples,omitempty"`
	// Error says why the table could not be compared.
	Error string `json:"error,omitempty"`
}

// Classes returns the table's row counts by class name.
func (t *Table) Classes() map[string]int64 {
	return map[string]int64{
		Matched.String(): t.Matched, MissingOnGreen.String(): t.MissingOnGreen, MissingOnBlue.String(): t.MissingOnBlue,
		Different.String(): t.Different, InFlight.String(): t.InFlight,
	}
}

// Label is the table's name, with green's when it differs
// ("public.customers → public.clients").
func (t *Table) Label() string {
	if t.Green == "" {
		return t.Name
	}
	return t.Name + " → " + t.Green
}

// Divergent reports whether rows differ for good.
func (t *Table) Divergent() bool { return t.MissingOnGreen+t.MissingOnBlue+t.Different > 0 }

func (t *Table) add(d diff, key string, sample int) {
	var n *int64
	switch d.class {
	case Matched:
		t.Matched++
		return
	case MissingOnGreen:
		n = &t.MissingOnGreen
	case MissingOnBlue:
		n = &t.MissingOnBlue
	case Different:
		n = &t.Different
	case InFlight:
		n = &t.InFlight
	}
	*n++
	if *n > int64(sample) {
		return
	}
	if t.Samples == nil {
		t.Samples = map[string][]Sample{}
	}
	c := d.class.String()
	t.Samples[c] = append(t.Samples[c], Sample{Key: strings.ReplaceAll(key, "\t", ", "), Columns: d.columns, Error: d.err})
}

// Report is a verify run's result.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Tables   []Table   `json:"tables"`
	// Unsettled says why rows that differed could not be re-read after
	// the sync caught up: they are reported as found, which may include
	// changes still in flight.
	Unsettled string `json:"unsettled,omitempty"`
}

// Status is consistent, divergent, or unmeasured (a table could not be
// compared, or differences could not be told from lag).
func (r *Report) Status() string {
	status := "consistent"
	for i := range r.Tables {
		t := &r.Tables[i]
		if t.Error != "" {
			return "unmeasured"
		}
		if t.Divergent() {
			status = "divergent"
		}
	}
	if status == "divergent" && r.Unsettled != "" {
		return "unmeasured"
	}
	return status
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Status string `json:"status"`
		*Report
	}{r.Status(), r})
}

var headers = []string{"table", "rows blue", "rows green", "matched", "missing on green", "missing on blue", "different", "in flight"}

func (t *Table) cells() []string {
	if t.Error != "" {
		return []string{t.Label(), "not compared: " + t.Error}
	}
	return []string{t.Label(), fmt.Sprint(t.BlueRows), fmt.Sprint(t.GreenRows), fmt.Sprint(t.Matched), fmt.Sprint(t.MissingOnGreen),
		fmt.Sprint(t.MissingOnBlue), fmt.Sprint(t.Different), fmt.Sprint(t.InFlight)}
}

// Text writes a table for people, then the sample keys.
func (r *Report) Text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(headers, "\t")+"\t")
	for i := range r.Tables {
		fmt.Fprintln(tw, strings.Join(r.Tables[i].cells(), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	r.samples(w, "")
	fmt.Fprintf(w, "\nverify: %s in %s\n", strings.ToUpper(r.Status()), r.Finished.Sub(r.Started).Round(time.Millisecond))
	if r.Unsettled != "" {
		fmt.Fprintf(w, "the sync did not catch up for a re-read: %s; the differences above may include changes in flight\n", r.Unsettled)
	}
	return nil
}

// Markdown writes the same as a Markdown table, for a pull request or a
// chat message.
func (r *Report) Markdown(w io.Writer) error {
	fmt.Fprintf(w, "**bgsync verify: %s** (%s)\n\n", r.Status(), r.Finished.Sub(r.Started).Round(time.Millisecond))
	fmt.Fprintln(w, "| "+strings.Join(headers, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat("---|", len(headers)))
	for i := range r.Tables {
		c := r.Tables[i].cells()
		for len(c) < len(headers) {
			c = append(c, "")
		}
		fmt.Fprintln(w, "| "+strings.Join(c, " | ")+" |")
	}
	r.samples(w, "- ")
	if r.Unsettled != "" {
		fmt.Fprintf(w, "\n_The sync did not catch up for a re-read (%s): differences may include changes in flight._\n", r.Unsettled)
	}
	return nil
}

func (r *Report) samples(w io.Writer, bullet string) {
	for i := range r.Tables {
		t := &r.Tables[i]
		for _, c := range []Class{MissingOnGreen, MissingOnBlue, Different, InFlight} {
			s := t.Samples[c.String()]
			if len(s) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s%s %s:", bullet, t.Label(), strings.ReplaceAll(c.String(), "_", " "))
			for _, x := range s {
				fmt.Fprintf(w, " (%s)", x.Key)
				if len(x.Columns) > 0 {
					fmt.Fprintf(w, "[%s]", strings.Join(x.Columns, ","))
				}
				if x.Error != "" {
					fmt.Fprintf(w, "{%s}", x.Error)
				}
			}
			fmt.Fprintln(w)
		}
	}
}

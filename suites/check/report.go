package check

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Summary counts results.
type Summary struct {
	Total  int `json:"total"`  // every result
	Passed int `json:"passed"` // the results that passed
	Failed int `json:"failed"` // the results that neither passed nor were skipped
	// Skipped counts checks that did not apply to the target; they are
	// neither passed nor failed.
	Skipped int `json:"skipped"`
}

// Summarize counts passed and failed results.
func Summarize(results []Result) Summary {
	s := Summary{Total: len(results)}
	for _, r := range results {
		switch {
		case r.Passed:
			s.Passed++
		case r.Skipped:
			s.Skipped++
		default:
			s.Failed++
		}
	}
	return s
}

// Report is the JSON form of a run.
type Report struct {
	Target  string    `json:"target"`  // the SCIM base URL the checks ran against
	Started time.Time `json:"started"` // when the run began
	Summary Summary   `json:"summary"` // the counts of Results
	Results []Result  `json:"results"` // one per check, in the order run
}

// WriteJSON writes results as an indented JSON Report.
func WriteJSON(w io.Writer, target string, started time.Time, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Report{Target: target, Started: started.UTC(), Summary: Summarize(results), Results: results}); err != nil {
		return fmt.Errorf("check: write json: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes results as JUnit XML, one testcase per check, named
// "ID: Title" with the labels as classname, so CI systems can show them.
func WriteJUnit(w io.Writer, suite string, started time.Time, results []Result) error {
	s := junitSuite{Name: suite, Tests: len(results), Timestamp: started.UTC().Format("2006-01-02T15:04:05")}
	var total time.Duration
	for _, r := range results {
		c := junitCase{Name: r.ID + ": " + r.Title, Classname: suite + "." + strings.Join(r.Labels, "."), Time: seconds(r.Duration)}
		switch {
		case r.Passed:
		case r.Skipped:
			s.Skipped++
			c.Skipped = &junitSkipped{Message: r.Error}
		default:
			s.Failures++
			first, _, _ := strings.Cut(r.Error, "\n")
			c.Failure = &junitFailure{Message: first, Type: r.Ref, Text: r.Error}
		}
		total += r.Duration
		s.Cases = append(s.Cases, c)
	}
	s.Time = seconds(total)
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("check: write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("check: write junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

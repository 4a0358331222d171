package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wlns/wlns/admin"
)

// Progress intervals of `wlns import` when --progress is not given: a
// terminal's line is redrawn every second, a log gets a line every 10 s.
const (
	progressTerminal = time.Second
	progressLog      = 10 * time.Second
)

// declareProgress adds --progress to an import command's flags.
func declareProgress(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("progress", -1, "how often to print the import's progress on stderr (records done of the total, records/s); 0 prints none (default: every second on a terminal, every 10s otherwise)")
}

// importMeter prints an import's progress as its batches are decided:
// the input lines decided of the total, the records and records/s.
type importMeter struct {
	w       io.Writer
	every   time.Duration
	tty     bool // redraw one line instead of printing lines
	total   int  // input lines, 0 when unknown
	start   time.Time
	last    time.Time
	records int
	line    int
	shown   bool
}

// newImportMeter returns a meter printing to e's stderr every interval
// (a negative one: by whether stderr is a terminal), or nil for none.
func newImportMeter(e *invocation, every time.Duration, total int) *importMeter {
	tty := isTerminal(e.stderr)
	if every < 0 {
		every = progressLog
		if tty {
			every = progressTerminal
		}
	}
	if every == 0 {
		return nil
	}
	now := time.Now()
	return &importMeter{w: e.stderr, every: every, tty: tty, total: total, start: now, last: now}
}

// batch counts a decided batch and prints when the interval has passed.
func (m *importMeter) batch(b admin.ImportBatch) {
	if m == nil {
		return
	}
	m.records += b.Records
	m.line = b.LastLine
	if now := time.Now(); now.Sub(m.last) >= m.every {
		m.last = now
		m.print(now)
	}
}

// done prints the last figures, if any were printed before, and ends a
// terminal's line.
func (m *importMeter) done() {
	if m == nil || !m.shown {
		return
	}
	m.print(time.Now())
	if m.tty {
		fmt.Fprintln(m.w)
	}
}

func (m *importMeter) print(now time.Time) {
	m.shown = true
	s := now.Sub(m.start).Seconds()
	rate := 0.0
	if s > 0 {
		rate = float64(m.records) / s
	}
	of := ""
	if m.total > 0 {
		of = fmt.Sprintf(" of %d (%.1f%%)", m.total, 100*float64(m.line)/float64(m.total))
	}
	end := "\n"
	if m.tty {
		end = "\x1b[K\r"
	}
	fmt.Fprintf(m.w, "import: line %d%s, %d records in %.0f s, %.0f records/s%s", m.line, of, m.records, s, rate, end)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// countLines counts the lines of the file name (a last line without a
// newline included), for the progress's total; 0 when it cannot.
func countLines(name string) int {
	f, err := os.Open(name)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n, last := 0, byte('\n')
	for {
		k, err := f.Read(buf)
		if k > 0 {
			n += bytes.Count(buf[:k], []byte{'\n'})
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0
		}
	}
	if last != '\n' {
		n++
	}
	return n
}

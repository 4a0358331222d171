package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/wlns/wlns/admin"
)

func importCommand() *subcommand {
	return &subcommand{
		name: "import", args: "FILE|-", nargs: [2]int{1, 1}, client: true,
		summary: "import NDJSON records (pair, verp, relay, group lines) from a file or stdin",
		setup: func(fs *flag.FlagSet) runFunc {
			batch := fs.Int("batch", cliImportBatch, "records per all-or-nothing batch (1 to 10000)")
			key := fs.String("key", "", "idempotency key: batch n is proposed as KEY/n, so running the same import again with the same key and --batch skips the batches already applied (default: a new random key, printed if the import is cut off)")
			progress := declareProgress(fs)
			return func(ctx context.Context, e *invocation) error {
				return runImport(ctx, e, e.args[0], *batch, *key, *progress)
			}
		},
	}
}

// cliImportBatch is wlns import's batch size: the API's largest
// (admin.MaxImportBatch), not its default (admin.DefaultImportBatch, for
// callers that name none): every batch costs every node a log entry, its
// fsyncs and a copy of each index leaf it reaches, so 1,000-record
// batches cost a bulk load more CPU per record than 10,000-record ones.
const cliImportBatch = admin.MaxImportBatch

// runImport streams a file to /v1/import, asking for the batches' outcomes
// as they are decided, and prints the report: the line ranges of rejected
// batches and the wrong lines. When the connection is cut it says which
// batches were applied before, and how to go on. It fails (exit 1) when a
// batch was rejected or the import did not finish.
func runImport(ctx context.Context, e *invocation, name string, batch int, key string, progress time.Duration) error {
	in, closeIn, err := openInput(e, name)
	if err != nil {
		return err
	}
	defer closeIn()
	total := 0
	if name != "-" && progress != 0 {
		total = countLines(name)
	}
	return importRecords(ctx, e, in, batch, key, nil, newImportMeter(e, progress, total))
}

// openInput opens a file to read, or stdin for "-".
func openInput(e *invocation, name string) (io.Reader, func(), error) {
	if name == "-" {
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("opening import file: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// importRecords streams NDJSON records to /v1/import as runImport
// describes; source, when set, names where record line n came from (the
// imports that convert another format), for the wrong lines' report; meter,
// when set, prints the progress.
func importRecords(ctx context.Context, e *invocation, in io.Reader, batch int, key string, source func(n int) string, meter *importMeter) error {
	if key == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("making an idempotency key: %w", err)
		}
		key = "import-" + hex.EncodeToString(b[:])
	}
	var got []admin.ImportBatch
	rep, err := importProgress(ctx, e.api, "/v1/import?batch="+strconv.Itoa(batch), key, in, func(b admin.ImportBatch) {
		got = append(got, b)
		meter.batch(b)
	})
	meter.done()
	if err != nil {
		var ae *apiError
		if len(got) == 0 && errors.As(err, &ae) {
			return err // refused before any batch: nothing was applied
		}
		printBatches(e.stdout, got, true)
		return &exitError{code: exitFailure, err: fmt.Errorf("import cut off after %d batches: %w; the batch in flight may or may not have been applied; "+
			"run the same import again with --key %s (and the same --batch) to skip the batches already applied", len(got), err, key)}
	}
	fmt.Fprintf(e.stdout, "records %d, applied %d, rejected %d, batches %d\n", rep.Lines, rep.Applied, rep.Rejected, len(rep.Batches))
	printBatches(e.stdout, rep.Batches, false)
	for _, le := range rep.Errors {
		if source != nil {
			fmt.Fprintf(e.stdout, "record %d (%s): %s\n", le.Line, source(le.Line), le.Error)
			continue
		}
		fmt.Fprintf(e.stdout, "line %d: %s\n", le.Line, le.Error)
	}
	if rep.ErrorsTruncated {
		fmt.Fprintln(e.stdout, "(more errors not listed)")
	}
	switch {
	case rep.Stopped != "":
		return &exitError{code: exitFailure, err: fmt.Errorf("import stopped: %s; run it again with --key %s (and the same --batch) to skip the batches already applied", rep.Stopped, key)}
	case rep.Rejected > 0:
		return &exitError{code: exitFailure, err: fmt.Errorf("%d records in rejected batches", rep.Rejected)}
	}
	return nil
}

// importProgress posts the import and calls batch for each batch outcome
// as the server reports it; it returns the final report, or an error when
// the answer ended before it.
func importProgress(ctx context.Context, c *apiClient, path, key string, in io.Reader, batch func(admin.ImportBatch)) (*admin.ImportReport, error) {
	resp, err := c.request(ctx, "POST", path, "application/x-ndjson", in,
		map[string]string{"Accept": "application/x-ndjson", "Idempotency-Key": key})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, c.answerError(resp.StatusCode, raw)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var p admin.ImportProgress
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("decoding the import answer: %w", err)
		}
		switch {
		case p.Report != nil:
			return p.Report, nil
		case p.Batch != nil:
			batch(*p.Batch)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the import answer: %w", err)
	}
	return nil, io.ErrUnexpectedEOF
}

// printBatches lists line ranges: runs of applied batches merged (only
// when all is set), and every rejected batch with its reason.
func printBatches(w io.Writer, bs []admin.ImportBatch, all bool) {
	for i := 0; i < len(bs); i++ {
		b := bs[i]
		if !b.Applied {
			fmt.Fprintf(w, "rejected lines %d-%d (%d records): %s\n", b.FirstLine, b.LastLine, b.Records, b.Error)
			continue
		}
		first, records := b.FirstLine, b.Records
		for i+1 < len(bs) && bs[i+1].Applied {
			i++
			records += bs[i].Records
		}
		if all {
			fmt.Fprintf(w, "applied lines %d-%d (%d records)\n", first, bs[i].LastLine, records)
		}
	}
}

package admin

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// nullStore accepts every command without applying it: the benchmark
// measures the API's own cost of an import.
type nullStore struct {
	ix  *index.Index
	tok *record.Token
}

func (s *nullStore) Apply(context.Context, *command.Envelope) (command.Result, error) {
	return command.Result{}, nil
}
func (s *nullStore) Index() index.Reader        { return s.ix }
func (s *nullStore) Token(string) *record.Token { return s.tok }
func (s *nullStore) Tokens() []*record.Token    { return []*record.Token{s.tok} }
func (s *nullStore) IsLeader() bool             { return true }

func BenchmarkImport_APICost(b *testing.B) {
	b.Run("pairs", func(b *testing.B) {
		benchmarkImportAPI(b, `{"kind":"pair","sender":"user%d@example%d.com","ip":"10.0.%d.%d"}`)
	})
	b.Run("relays", func(b *testing.B) {
		benchmarkImportAPI(b, `{"kind":"relay","ip":"10.1.%[3]d.%[4]d","contact":"postmaster@bench.invalid"}`)
	})
}

// benchmarkImportAPI imports 10,000 lines of format (given a line number,
// its remainder by 1000 and its second and first bytes) into a nullStore
// and reports the API's CPU per line.
func benchmarkImportAPI(b *testing.B, format string) {
	var buf bytes.Buffer
	const lines = 10000
	for i := range lines {
		fmt.Fprintf(&buf, format+"\n", i, i%1000, i>>8&255, i&255)
	}
	st := &nullStore{ix: index.New(), tok: &record.Token{Name: "admin", Hash: HashSecret(adminSecret), Role: record.RoleAdmin}}
	api, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	cpu := cpuSeconds()
	for range b.N {
		req := httptest.NewRequest("POST", "/v1/import", bytes.NewReader(buf.Bytes()))
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric((cpuSeconds()-cpu)*1e6/float64(lines*b.N), "cpu-µs/line")
}

// cpuSeconds is the CPU time the process has used (all threads, GC
// included): on a shared machine it says more than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

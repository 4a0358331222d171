package systest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// soakImportLines is the number of pairs one import of the soak carries,
// in batches of soakImportBatch.
const (
	soakImportLines = 200
	soakImportBatch = 50
)

// importInto runs `wlns import` from the hub namespace against node n with
// the pairs imp<k>-<j>@example.org, and again with the same --key while it
// fails (at most six runs, 4 s apart): the batches applied before are
// skipped, so each pair is there once. It runs in the background, so it
// reports through the campaign's write records, never by failing the test.
func (s *soak) importInto(n *nsNode, k int) {
	var b strings.Builder
	var recs []writeRec
	for j := 1; j <= soakImportLines; j++ {
		sender := fmt.Sprintf("imp%d-%d@example.org", k, j)
		fmt.Fprintf(&b, `{"kind":"pair","sender":%q,"ip":%q}`+"\n", sender, s.ip)
		recs = append(recs, writeRec{sender: sender, node: n.i})
	}
	file := filepath.Join(s.t.TempDir(), fmt.Sprintf("import-%d.ndjson", k))
	out, last := failed, ""
	err := os.WriteFile(file, []byte(b.String()), 0o644)
	if err != nil {
		last = err.Error()
	}
	for run := 1; run <= 6 && err == nil; run++ {
		if last = s.runImport(n, file, fmt.Sprintf("soak-import-%d", k)); last == "" {
			out = acked
			break
		}
		time.Sleep(4 * time.Second)
	}
	for i := range recs {
		recs[i].outcome, recs[i].last = out, last
	}
	s.c.record(recs)
	s.t.Logf("%s import %d into node %d: %v %s", s.at(), k, n.i, map[outcome]string{acked: "applied", failed: "failed"}[out], last)
}

// runImport runs the CLI once; "" when every record was applied, else what
// went wrong.
func (s *soak) runImport(n *nsNode, file, key string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", s.lab.hub, wlnsBin, "import", file,
		"--batch", fmt.Sprint(soakImportBatch), "--key", key, "--server", "http://"+n.addr(), "--token", s.c.tokens[n.i-1])
	out, err := cmd.CombinedOutput()
	if err == nil && strings.Contains(string(out), fmt.Sprintf("applied %d, rejected 0", soakImportLines)) {
		return ""
	}
	return fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out)))
}

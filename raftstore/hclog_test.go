package raftstore

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogger_WritesStructuredSlogLines(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	l := newHCLogger(base, "raft").Named("snapshots").With("node", "n1")
	l.Debug("hidden")
	l.Warn("disk slow", "took", "3s")
	l.StandardLogger(nil).Print("from the std logger")
	out := buf.String()
	for _, want := range []string{"level=WARN", `msg="disk slow"`, "component=raft.snapshots", "node=n1", "took=3s", "from the std logger"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") || l.IsDebug() || !l.IsWarn() || l.GetLevel() != hclog.Info {
		t.Errorf("debug line or level wrong: %s", out)
	}
	if strings.Count(out, "component=") != 2 {
		t.Errorf("component repeated:\n%s", out)
	}
}

func TestHCLogger_RendersFmtValues(t *testing.T) {
	var buf bytes.Buffer
	l := newHCLogger(slog.New(slog.NewTextHandler(&buf, nil)), "raft")
	l.Info("snapshot restore progress", "percent-complete", hclog.Fmt("%0.2f%%", 42.5), "id", "n1")
	if out := buf.String(); !strings.Contains(out, "percent-complete=42.50%") || !strings.Contains(out, "id=n1") {
		t.Errorf("hclog.Fmt not rendered: %s", out)
	}
}

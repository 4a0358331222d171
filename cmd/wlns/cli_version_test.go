package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion_PrintsModuleAndGoVersion(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "version")
	if code != exitOK {
		t.Fatalf("wlns version: exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "wlns ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("wlns version printed %q; want it to start with \"wlns \" and name %s", out, runtime.Version())
	}
}

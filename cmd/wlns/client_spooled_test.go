package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCLI_SpooledWriteSaysSoAndSucceeds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"spooled": true, "request_id": "r-42", "type": "pair.put", "pending": 3, "spool": "/v1/spool"}`))
	}))
	defer srv.Close()
	code, out, errOut := runCLI(t, nil, "pair", "add", "dave@umkc.edu", "192.0.2.4", "--server", srv.URL, "--token", "x")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"spooled", "pair.put", "r-42", "3 pending", "wlns spool"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q does not mention %q", out, want)
		}
	}
}

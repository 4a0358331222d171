package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// readyInfo is the JSON `wlns serve --ready-file` writes once every
// listener is up: system tests start nodes on port 0 and read it.
type readyInfo struct {
	DNSUDP    string `json:"dns_udp"`
	DNSTCP    string `json:"dns_tcp"`
	DNSTLS    string `json:"dns_tls,omitempty"` // DNS over TLS, when on
	HTTP      string `json:"http"`
	HTTPTLS   bool   `json:"http_tls,omitempty"` // the HTTP listener serves TLS (https://)
	Raft      string `json:"raft"`
	SMTP      string `json:"smtp,omitempty"`  // inbound SMTP, when verification is on
	WHOIS     string `json:"whois,omitempty"` // WHOIS, when on
	TokenFile string `json:"token_file"`
	XFR       string `json:"xfr,omitempty"` // zone transfer, when on
}

// writeReadyFile writes info atomically (temporary file, then rename), so a
// reader never sees half a file.
func writeReadyFile(path string, info *readyInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encoding ready file: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

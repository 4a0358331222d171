package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/record"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseArgs_FlagsAnywhere(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		pin     bool
		server  string
	}{
		{[]string{"a@b.example", "192.0.2.1"}, []string{"a@b.example", "192.0.2.1"}, false, "default"},
		{[]string{"--pin", "a@b.example", "192.0.2.1"}, []string{"a@b.example", "192.0.2.1"}, true, "default"},
		{[]string{"a@b.example", "192.0.2.1", "--pin", "--server", "http://x:1"}, []string{"a@b.example", "192.0.2.1"}, true, "http://x:1"},
		{[]string{"a@b.example", "--server=http://y:2", "192.0.2.1"}, []string{"a@b.example", "192.0.2.1"}, false, "http://y:2"},
		{[]string{"--", "--pin", "x"}, []string{"--pin", "x"}, false, "default"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			pin := fs.Bool("pin", false, "")
			server := fs.String("server", "default", "")
			pos, err := parseArgs(fs, tt.args, envMap(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pos, tt.wantPos) || *pin != tt.pin || *server != tt.server {
				t.Errorf("pos %q pin %v server %q; want %q %v %q", pos, *pin, *server, tt.wantPos, tt.pin, tt.server)
			}
		})
	}
}

func TestParseArgs_EnvFillsUnsetFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg serveConfig
	cfg.declare(fs)
	env := envMap(map[string]string{
		"WLNS_DATA": "/srv/wlns", "WLNS_NEGATIVE_TTL": "30", "WLNS_APEX": "env.example", "WLNS_NS": "ns1.example.,ns2.example.",
	})
	if _, err := parseArgs(fs, []string{"--apex", "flag.example"}, env); err != nil {
		t.Fatal(err)
	}
	if cfg.data != "/srv/wlns" || cfg.negTTL != 30 || cfg.apex != "flag.example" || len(cfg.ns) != 2 {
		t.Errorf("config %+v", cfg)
	}
	if cfg.dns != "127.0.0.1:5300" || cfg.http != "127.0.0.1:8053" || cfg.raft != "127.0.0.1:8300" || cfg.ttl != 300 {
		t.Errorf("defaults changed: %+v", cfg)
	}

	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.declare(fs)
	_, err := parseArgs(fs, nil, envMap(map[string]string{"WLNS_TTL": "soon"}))
	if err == nil || !strings.Contains(err.Error(), "WLNS_TTL") {
		t.Errorf("bad env value: err %v", err)
	}
}

// validatedServeConfig parses serve flags and returns the configuration and
// what validate says of it.
func validatedServeConfig(t *testing.T, args ...string) (serveConfig, error) {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var cfg serveConfig
	cfg.declare(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return cfg, cfg.validate()
}

// serveConfigFor parses args as serve flags and checks validate's verdict:
// accepted when wantErr is empty, else refused with an error mentioning
// wantErr. It returns the config and whether it was accepted.
func serveConfigFor(t *testing.T, args []string, wantErr string) (serveConfig, bool) {
	t.Helper()
	cfg, err := validatedServeConfig(t, args...)
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("rejected: %v", err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("error %v, want one mentioning %q", err, wantErr)
	}
	return cfg, wantErr == ""
}

func TestServeConfig_Validate(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var cfg serveConfig
	cfg.declare(fs)
	if err := cfg.validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	cfg.dns, cfg.logFormat, cfg.ttl, cfg.startTimeout = "5300", "xml", -1, 0
	err := cfg.validate()
	for _, want := range []string{"--dns", "--log-format", "--ttl", "--start-timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: envMap(env)})
	return code, out.String(), errb.String()
}

func TestRun_ExitStatuses(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{nil, exitOK, "Commands:"},
		{[]string{"help"}, exitOK, "Commands:"},
		{[]string{"help", "pair", "add"}, exitOK, "Usage: wlns pair add"},
		{[]string{"pair", "add", "-h"}, exitOK, "-pin"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"pair"}, exitUsage, "pair needs a sub-command: add, del, list"},
		{[]string{"help", "group"}, exitOK, "group add-member NAME PREFIX..."},
		{[]string{"pair", "add", "a@b.example"}, exitUsage, "wrong number of arguments"},
		{[]string{"pair", "list", "--limit", "x"}, exitUsage, "invalid value"},
		{[]string{"status", "--server", "ftp://x"}, exitUsage, "invalid --server"},
		{[]string{"name", "not-an-address", "192.0.2.1"}, exitUsage, "not an address"},
		{[]string{"name", "a@b.example", "192.0.2.1", "--form", "rot13"}, exitUsage, "rot13"},
		{[]string{"status", "--server", "http://127.0.0.1:1"}, exitFailure, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.out) {
				t.Errorf("exit %d (want %d); output lacks %q:\n%s%s", code, tt.code, tt.out, out, errOut)
			}
		})
	}
}

func TestName_PrintsTheThreeQueryNames(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"name", "First.Last@UMKC.edu", "192.0.2.4"},
			"sender\tfirst\\.last.umkc.edu.4.2.0.192.sender.wl.example.org.\n" +
				"verp\tumkc.edu.4.2.0.192.verp.wl.example.org.\n" +
				"relay\t4.2.0.192.relay.wl.example.org.\n"},
		{[]string{"name", "user@[192.0.2.1]", "192.0.2.4", "--form", "hashed", "--apex", "wl.test"},
			"sender\t" + record.HashLabel("user@[192.0.2.1]") + ".4.2.0.192.sender.wl.test.\n" +
				"relay\t4.2.0.192.relay.wl.test.\n"},
		{[]string{"name", "jose@bücher.example", "192.0.2.4", "--apex", "wl.test"},
			"sender\tjose.xn--bcher-kva.example.4.2.0.192.sender.wl.test.\n" +
				"verp\txn--bcher-kva.example.4.2.0.192.verp.wl.test.\n" +
				"relay\t4.2.0.192.relay.wl.test.\n"},
		{[]string{"name", "first.last@umkc.edu", "192.0.2.4", "--form", "plain", "--apex", "wl.test"},
			"sender\tfirst.last.umkc.edu.4.2.0.192.sender.wl.test.\n" +
				"verp\tumkc.edu.4.2.0.192.verp.wl.test.\n" +
				"relay\t4.2.0.192.relay.wl.test.\n"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, nil, tt.args...)
		if code != exitOK || out != tt.want {
			t.Errorf("%v: exit %d, output\n%s%s\nwant\n%s", tt.args, code, out, errOut, tt.want)
		}
	}
	code, out, _ := runCLI(t, map[string]string{"WLNS_APEX": "env.test", "WLNS_FORM": "hashed"}, "name", "dave@umkc.edu", "2001:db8::1")
	if code != exitOK || !strings.Contains(out, ".sender.env.test.") || strings.Contains(out, "dave") {
		t.Errorf("env apex and hashed form: exit %d, %s", code, out)
	}
}

func TestWithin_GivesUpAtTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	block := make(chan struct{})
	defer close(block)
	err := within(ctx, "closing a stuck thing", func() error { <-block; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "closing a stuck thing") {
		t.Errorf("err %v", err)
	}
	if err := within(context.Background(), "x", func() error { return io.EOF }); err != io.EOF {
		t.Errorf("a finished f: err %v", err)
	}
}

// The back-quoted word of a flag's usage is the value name `-h` prints
// after the flag (flag.UnquoteUsage): it must be a placeholder such as
// FILE, never a phrase like "wlns ca issue".
func TestCommands_FlagValueNamesArePlaceholders(t *testing.T) {
	for _, sc := range commands() {
		fs := flag.NewFlagSet(sc.name, flag.ContinueOnError)
		sc.setup(fs)
		fs.VisitAll(func(f *flag.Flag) {
			name, _ := flag.UnquoteUsage(f)
			if strings.ContainsAny(name, " \t") {
				t.Errorf("wlns %s -%s shows the value name %q in -h", sc.name, f.Name, name)
			}
		})
	}
}

func TestSizeFlag_ParsesUnits(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"512", 512, true},
		{"64MiB", 64 << 20, true},
		{"1 GiB", 1 << 30, true},
		{"8K", 8 << 10, true},
		{"-1", 0, false},
		{"1TB", 0, false},
		{"99999999999999GiB", 0, false},
	} {
		var f sizeFlag
		err := f.Set(c.in)
		if (err == nil) != c.ok || uint64(f) != c.want {
			t.Errorf("Set(%q) = %d, %v; want %d (ok %v)", c.in, f, err, c.want, c.ok)
		}
	}
}

// The first try: name servers inside the zone need their
// addresses, given with the name.
func TestServeConfig_InZoneNSNeedsAddress(t *testing.T) {
	serveConfigFor(t, []string{"--apex", "wl.test", "--ns", "ns1.wl.test,ns2.wl.test"},
		"--ns: NS ns1.wl.test. is inside the zone wl.test. but has no address")
	serveConfigFor(t, []string{"--apex", "wl.test", "--ns", "ns1.wl.test=192.0.2.53,ns2.wl.test=192.0.2.54", "--ns", "ns2.wl.test=2001:db8::54"}, "")
	serveConfigFor(t, []string{"--apex", "wl.test", "--ns", "ns1.example.net=192.0.2.1"}, "outside the zone")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// running is a server process started by the benchmark.
type running struct {
	name    string
	cmd     *exec.Cmd
	addr    string // DNS host:port
	logPath string
	started time.Time
	done    chan struct{}
	waitErr error
}

// pid is the server's process ID (taskset execs the server in place).
func (r *running) pid() int { return r.cmd.Process.Pid }

// launch starts argv with its output in logPath; pinned puts it on CPU 1.
func launch(name string, argv []string, env []string, logPath string, pinned bool) (*running, error) {
	if pinned {
		argv = append([]string{"taskset", "-c", "1"}, argv...)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	r := &running{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{}), started: time.Now()}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", strings.Join(argv, " "), err)
	}
	go func() {
		r.waitErr = cmd.Wait()
		logf.Close()
		close(r.done)
	}()
	return r, nil
}

// stop ends the server with SIGTERM, then SIGKILL after 20 s.
func (r *running) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// logTail returns the end of the server's log for error messages.
func (r *running) logTail() string {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// waitAnswer polls until qname answers A code (or, for code "", until the
// server answers at all), bounded by limit; it returns the seconds since
// the server was started.
func (r *running) waitAnswer(ctx context.Context, qname, code string, limit time.Duration) (float64, error) {
	deadline := time.Now().Add(limit)
	var last string
	for {
		m, err := ask(r.addr, qname)
		switch {
		case err != nil:
			last = err.Error()
		case hasA(m, code):
			return time.Since(r.started).Seconds(), nil
		default:
			last = dns.RcodeToString[m.Rcode]
		}
		select {
		case <-r.done:
			return 0, fmt.Errorf("%s exited (%v) while loading:\n%s", r.name, r.waitErr, r.logTail())
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for %s: %w", r.name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: %s not answering %s after %v (last: %s):\n%s", r.name, qname, code, limit, last, r.logTail())
		}
	}
}

// ask sends one UDP query for qname A.
func ask(addr, qname string) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(qname), dns.TypeA)
	q.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	m, _, err := c.Exchange(q, addr)
	if err != nil {
		return nil, fmt.Errorf("asking %s for %s: %w", addr, qname, err)
	}
	return m, nil
}

// hasA reports whether m is NOERROR with an A record code ("" accepts any
// NOERROR answer).
func hasA(m *dns.Msg, code string) bool {
	if m.Rcode != dns.RcodeSuccess {
		return false
	}
	if code == "" {
		return true
	}
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == code {
			return true
		}
	}
	return false
}

// freePort returns a loopback port that was free for UDP and TCP a moment ago.
func freePort() (string, error) {
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("finding a free port: %w", err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		pc.Close()
		if err == nil {
			l.Close()
			return fmt.Sprint(port), nil
		}
	}
	return "", errors.New("finding a free port: none free for both UDP and TCP")
}

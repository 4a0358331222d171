package kit

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

// Proc is a server process started by a benchmark.
type Proc struct {
	// Name labels the process in errors.
	Name string
	// Addr is its DNS host:port, set by whoever knows it.
	Addr string
	// LogPath holds its standard output and error.
	LogPath string
	// Started is when it was executed.
	Started time.Time

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// PID is the server's process ID (taskset execs the server in place).
func (r *Proc) PID() int { return r.cmd.Process.Pid }

// Done is closed once the process has exited.
func (r *Proc) Done() <-chan struct{} { return r.done }

// WaitErr is how the process exited; read it only after Done.
func (r *Proc) WaitErr() error { return r.waitErr }

// Launch starts argv with its output appended to logPath and env added to
// this process's environment; cpus pins it with taskset (taskset's list
// syntax, e.g. "1"; taskset execs it in place, so the PID stays the
// server's), empty runs it anywhere. It dies with the benchmark.
func Launch(name string, argv []string, env []string, logPath, cpus string) (*Proc, error) {
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r := &Proc{Name: name, cmd: cmd, LogPath: logPath, done: make(chan struct{}), Started: time.Now()}
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

// Stop ends the server with SIGTERM, then SIGKILL after stopWait.
func (r *Proc) Stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(stopWait):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// stopWait is how long Stop waits after SIGTERM: longer than wlns serve's
// own --shutdown-timeout (60 s), whose shutdown snapshot took up to 11 s
// at 10M pairs on the loaded benchmark machine; a kill during it makes the
// next start (bench/scale's restart) replay the log.
const stopWait = 90 * time.Second

// LogTail returns the end of the server's log for error messages.
func (r *Proc) LogTail() string {
	b, _ := os.ReadFile(r.LogPath)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// WaitAnswer polls until qname answers A code (or, for code "", until the
// server answers at all), bounded by limit; it returns the seconds since
// the server was started.
func (r *Proc) WaitAnswer(ctx context.Context, qname, code string, limit time.Duration) (float64, error) {
	deadline := time.Now().Add(limit)
	var last string
	for {
		m, err := Ask(r.Addr, qname)
		switch {
		case err != nil:
			last = err.Error()
		case HasA(m, code):
			return time.Since(r.Started).Seconds(), nil
		default:
			last = dns.RcodeToString[m.Rcode]
		}
		select {
		case <-r.done:
			return 0, fmt.Errorf("%s exited (%v) while loading:\n%s", r.Name, r.waitErr, r.LogTail())
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for %s: %w", r.Name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: %s not answering %s after %v (last: %s):\n%s", r.Name, qname, code, limit, last, r.LogTail())
		}
	}
}

// Ask sends one UDP query for qname A.
func Ask(addr, qname string) (*dns.Msg, error) {
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

// HasA reports whether m is NOERROR with an A record code ("" accepts any
// NOERROR answer).
func HasA(m *dns.Msg, code string) bool {
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

// FreePort returns a loopback port that was free for UDP and TCP a moment ago.
func FreePort() (string, error) {
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

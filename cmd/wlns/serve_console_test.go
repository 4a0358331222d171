package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServe_ConsoleCookiesSecureBehindTLS signs in to the console of a
// real `wlns serve` and reads the Secure flag of its form and session
// cookies: set over TLS, on plain HTTP when the node is told it is behind
// TLS (--console-secure-cookies always, or auto with an https:// public
// URL), and not otherwise; Secure cookies are __Host- ones (Path=/).
func TestServe_ConsoleCookiesSecureBehindTLS(t *testing.T) {
	_, cert, key := serverCert(t)
	for _, tc := range []struct {
		name   string
		args   []string
		tls    bool
		secure bool
	}{
		{"plain HTTP", nil, false, false},
		{"behind a TLS proxy", []string{"--console-secure-cookies", "always"}, false, true},
		{"https public URL", append([]string{"--smtp", "off"}, verifyOn...), false, true},
		{"https public URL, tls only", append([]string{"--smtp", "off", "--console-secure-cookies", "tls"}, verifyOn...), false, false},
		{"TLS listener", []string{"--http-cert", cert, "--http-key", key}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServeWith(t, filepath.Join(t.TempDir(), "data"), tc.args...)
			base := "http://" + s.ready.HTTP
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if tc.tls {
				base = "https://" + s.ready.HTTP
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // a test certificate
			}
			form, token := consoleFormCookie(t, client, base)
			if !hostCookie(form, tc.secure) {
				t.Errorf("the form cookie %+v, want Secure=%v and __Host- with Path=/ when Secure", form, tc.secure)
			}
			secret, err := os.ReadFile(s.ready.TokenFile)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", base+"/console/signin/token",
				strings.NewReader(url.Values{"token": {strings.TrimSpace(string(secret))}, "csrf": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(form)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var session *http.Cookie
			for _, ck := range resp.Cookies() {
				if strings.TrimPrefix(ck.Name, "__Host-") == "wlns_console" {
					session = ck
				}
			}
			if resp.StatusCode != http.StatusSeeOther || session == nil || !hostCookie(session, tc.secure) || !session.HttpOnly {
				t.Errorf("token sign-in: %d, session cookie %+v, want 303 and an HttpOnly cookie with Secure=%v (__Host- when Secure)", resp.StatusCode, session, tc.secure)
			}
		})
	}
}

// hostCookie reports whether ck is Secure as wanted and, if so, a
// __Host- cookie a browser accepts as one: Path=/, no Domain.
func hostCookie(ck *http.Cookie, secure bool) bool {
	if ck.Secure != secure || strings.HasPrefix(ck.Name, "__Host-") != secure {
		return false
	}
	return !secure || (ck.Path == "/" && ck.Domain == "")
}

// consoleFormCookie reads the console's sign-in page: the form cookie it
// sets and its forms' token.
func consoleFormCookie(t *testing.T, client *http.Client, base string) (*http.Cookie, string) {
	t.Helper()
	resp, err := client.Get(base + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(b)
	for _, ck := range resp.Cookies() {
		if strings.TrimPrefix(ck.Name, "__Host-") == "wlns_console_form" && m != nil {
			return ck, string(m[1])
		}
	}
	t.Fatalf("the sign-in page set no form cookie or token: %d %v", resp.StatusCode, resp.Cookies())
	return nil, ""
}

func TestServeConfig_ConsoleSecureCookies(t *testing.T) {
	serveConfigFor(t, []string{"--console-secure-cookies", "yes"}, `--console-secure-cookies "yes": want auto, always or tls`)
	if cfg, ok := serveConfigFor(t, []string{"--console-secure-cookies", "always"}, ""); ok && cfg.consoleSecure != secureAlways {
		t.Errorf("--console-secure-cookies always: %q", cfg.consoleSecure)
	}
}

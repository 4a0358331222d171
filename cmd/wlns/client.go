package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Client defaults.
const (
	defaultServer    = "http://127.0.0.1:8053"
	defaultTokenFile = "wlns-data/admin.token"
)

// clientOptions are the flags of every command that talks to the API.
type clientOptions struct {
	server, token, tokenFile string
	// caFile holds extra CA certificates to trust for an https server.
	caFile  string
	timeout time.Duration
}

func (o *clientOptions) declare(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&o.server, "server", defaultServer, "base URL of the wlns HTTP API")
	fs.StringVar(&o.token, "token", "", "API bearer token (default: the contents of --token-file)")
	fs.StringVar(&o.tokenFile, "token-file", defaultTokenPath(getenv),
		"file holding the API token, used when --token is empty (default: admin.token in $WLNS_DATA, the data folder `wlns serve` uses, when that is set)")
	fs.StringVar(&o.caFile, "ca-file", "", "CA certificates (PEM) to trust for an https --server whose certificate the system does not trust (default: the system's CAs)")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "time limit of one API request (imports: of each read and write)")
}

// defaultTokenPath is where the CLI looks for the token without flags: the
// admin.token that `wlns serve` writes into its data folder. WLNS_DATA, the
// serve setting (the container image and the systemd environment set it),
// names that folder for the CLI on the same machine too.
func defaultTokenPath(getenv func(string) string) string {
	if dir := getenv("WLNS_DATA"); dir != "" {
		return filepath.Join(dir, "admin.token")
	}
	return defaultTokenFile
}

// client builds the API client. A missing token file is not an error: the
// server then answers 401 and says so.
func (o *clientOptions) client() (*apiClient, error) {
	u, err := url.Parse(o.server)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, usageErrorf("invalid --server %q: want http://host:port", o.server)
	}
	tok := o.token
	if tok == "" && o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading token file: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	hc, err := httpClient(o.caFile)
	if err != nil {
		return nil, err
	}
	return &apiClient{base: strings.TrimRight(o.server, "/"), token: tok, timeout: o.timeout, http: hc}, nil
}

// httpClient is an HTTP client that also trusts the CA certificates in
// caFile, when given.
func httpClient(caFile string) (*http.Client, error) {
	pool, err := caPool(caFile, "--ca-file")
	if err != nil || pool == nil {
		return &http.Client{}, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
}

// caPool is the system's CAs and those in file (named by flag in errors);
// nil when file is empty.
func caPool(file, flag string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", flag, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s holds no PEM certificate", flag, file)
	}
	return pool, nil
}

// apiClient calls the wlns HTTP API.
type apiClient struct {
	base, token string
	timeout     time.Duration
	http        *http.Client
}

// apiError is an error answer of the API.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.msg, e.status)
}

// do sends a JSON request (body may be nil) and decodes a JSON answer into
// out (which may be nil). It returns the status.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.send(ctx, method, path, "application/json", rd, out)
}

// send sends body with the given content type and decodes the answer.
func (c *apiClient) send(ctx context.Context, method, path, ctype string, body io.Reader, out any) (int, error) {
	resp, err := c.request(ctx, method, path, ctype, body, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, c.answerError(resp.StatusCode, raw)
	}
	if sp := spooled(resp.StatusCode, raw); sp != nil {
		return resp.StatusCode, sp
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding the answer of %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// request sends one request with the token and the extra headers and
// returns the answer unread.
func (c *apiClient) request(ctx context.Context, method, path, ctype string, body io.Reader, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// answerError is the error of a non-2xx answer with body raw.
func (c *apiClient) answerError(status int, raw []byte) error {
	var eb struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
		eb.Error = strings.TrimSpace(string(raw))
	}
	if status == http.StatusUnauthorized && c.token == "" {
		eb.Error += " (no token given: pass --token or --token-file; the first `wlns serve` saved one in <data>/admin.token)"
	}
	return &apiError{status: status, msg: eb.Error}
}

// query builds a query string from name/value pairs, skipping empty values.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

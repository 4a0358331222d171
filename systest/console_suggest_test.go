package systest

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/chromedp/chromedp"
)

// plantPools registers two pools of two relays that verified the same 12
// senders each: 192.0.2.31–32 and 198.51.100.31–32.
func plantPools(t *testing.T, n *node) {
	t.Helper()
	for p, ips := range [][]string{{"192.0.2.31", "192.0.2.32"}, {"198.51.100.31", "198.51.100.32"}} {
		for _, ip := range ips {
			if code, b := n.api("POST", "/v1/relays", map[string]any{"ip": ip, "contact": "pm@pool.example", "ptr": "out-" + ip + ".pool.example"}); code != 201 {
				t.Fatalf("registering %s: %d %s", ip, code, b)
			}
		}
		for i := range 12 {
			for _, ip := range ips {
				if code, b := n.api("POST", "/v1/pairs", map[string]any{"sender": fmt.Sprintf("u%d-%d@users.example", p, i), "ip": ip}); code != 201 {
					t.Fatalf("adding a pair: %d %s", code, b)
				}
			}
		}
	}
}

var suggestionIDRE = regexp.MustCompile(`(?m)^([0-9a-f]{16})\s`)

// TestConsole_DismissSuggestion dismisses one suggested group in Chromium
// and the other with the CLI; neither is listed again, also after the
// node restarts.
func TestConsole_DismissSuggestion(t *testing.T) {
	n := startNode(t, "")
	plantPools(t, n)
	ids := suggestionIDRE.FindAllStringSubmatch(n.mustCLI("suggestion", "list"), -1)
	if len(ids) != 2 {
		t.Fatalf("wlns suggestion list: %d suggestions, want 2:\n%s", len(ids), n.mustCLI("suggestion", "list"))
	}

	br := newBrowser(t, "http://"+n.ready.HTTP, screenshotDir(t))
	br.open("/console/signin")
	br.do(chromedp.SendKeys(chromedp.CSS("#token"), n.token))
	br.submit(`form[action="/console/signin/token"] button`, "Your relays and groups")
	br.open("/console/suggestions")
	br.waitText("out-192.0.2.31.pool.example")
	br.checkA11y("suggestions")
	br.shot("30-suggestions")
	first := value(br, chromedp.Evaluate[string](`document.querySelector('form[action="/console/suggestions/dismiss"] input[name=id]').value`))
	br.submit(`form[action="/console/suggestions/dismiss"] button`, "Dismissed: the suggestion is not shown again")
	if strings.Contains(br.mainText(), first) {
		t.Errorf("the dismissed suggestion %s is still listed:\n%s", first, br.mainText())
	}
	br.checkA11y("suggestion-dismissed")
	br.shot("31-suggestion-dismissed")

	left := n.mustCLI("suggestion", "list")
	if strings.Contains(left, first) || len(suggestionIDRE.FindAllString(left, -1)) != 1 {
		t.Fatalf("after the console's dismissal the CLI lists:\n%s", left)
	}
	second := suggestionIDRE.FindStringSubmatch(left)[1]
	if out := n.mustCLI("suggestion", "dismiss", second); !strings.Contains(out, "dismissed "+second+" at 12 shared senders") {
		t.Errorf("wlns suggestion dismiss: %q", out)
	}
	if r := n.cli("suggestion", "dismiss", second); r.code == 0 || !strings.Contains(r.stderr, "no suggestion") {
		t.Errorf("dismissing it again: exit %d, %s", r.code, r.stderr)
	}

	if err := n.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping: %v", err)
	}
	n = startNode(t, n.dataDir)
	if out := n.mustCLI("suggestion", "list"); suggestionIDRE.MatchString(out) {
		t.Errorf("after a restart the dismissed suggestions are listed again:\n%s", out)
	}
}

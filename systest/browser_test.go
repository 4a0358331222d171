package systest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser harness: headless Debian Chromium driven over the DevTools
// protocol by chromedp (no WebDriver, no Node.js), so the console's tests
// click, type and read pages as a user's browser does. chromedp earns its
// place as the one library that does this from Go with nothing but the
// browser installed; it is a test-only dependency.

// browser is one headless Chromium with one tab, closed when the test ends.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // http://host:port of the node under test
	dir  string // where screenshots go
}

// newBrowser starts Chromium with a fresh profile and every feature that
// would reach the network off; screenshots go to shotDir.
func newBrowser(t *testing.T, base, shotDir string) *browser {
	t.Helper()
	bin := needTool(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base, dir: shotDir}
	// The first call starts the browser, which lives as long as that
	// call's context: the test's own, never one with a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return b
}

// do runs steps within 30 s and fails the test on an error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// value runs one action with a value within 30 s.
func value[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// open navigates to a console path and waits for its heading.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// submit clicks a button and waits for the page it leads to: one whose
// main text contains want.
func (b *browser) submit(button, want string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(button)))
	b.waitText(want)
}

// waitText polls (bounded) until main's text contains want.
func (b *browser) waitText(want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := b.mainText()
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("page %s does not say %q; it says:\n%s", b.location(), want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) mainText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : ""`))
	if err != nil {
		return ""
	}
	return s
}

func (b *browser) location() string { return value(b, chromedp.Location()) }

// shot writes a full-page PNG of the current page as name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	png := value(b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatalf("writing screenshot %s: %v", name, err)
	}
}

// screenshotDir is $WLNS_ARTIFACTS/console-screenshots when set, else a
// new directory under the system temp dir that outlives the test; the test
// logs where.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WLNS_ARTIFACTS")
	var err error
	if dir != "" {
		dir = filepath.Join(dir, "console-screenshots")
		err = os.MkdirAll(dir, 0o755)
	} else {
		dir, err = os.MkdirTemp("", "wlns-console-screenshots-")
	}
	if err != nil {
		t.Fatalf("making the screenshot directory: %v", err)
	}
	t.Logf("console screenshots: %s", dir)
	return dir
}

// a11yJS collects what the accessibility checks need from a page: the
// heading levels in order, form controls without a label, buttons without
// a name, the document language, and every element with its own text,
// with its computed colour, effective background, size and weight.
const a11yJS = `(() => {
  const bg = el => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && c !== "transparent" && !/rgba\(.*, 0\)$/.test(c)) return c;
    }
    return "rgb(255, 255, 255)";
  };
  const headings = [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")].map(h => +h.tagName[1]);
  const unlabelled = [...document.querySelectorAll("input,select,textarea")]
    .filter(i => i.type !== "hidden" && i.type !== "submit")
    .filter(i => !(i.labels && i.labels.length) && !i.getAttribute("aria-label"))
    .map(i => i.name || i.id);
  const nameless = [...document.querySelectorAll("button,a")]
    .filter(b => !b.textContent.trim() && !b.getAttribute("aria-label")).map(b => b.outerHTML);
  const texts = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null && el.tagName !== "BODY") continue;
    const s = getComputedStyle(el);
    texts.push({text: el.textContent.trim().slice(0, 40), fg: s.color, bg: bg(el), size: parseFloat(s.fontSize), weight: +s.fontWeight});
  }
  return {lang: document.documentElement.lang, headings, unlabelled, nameless, texts};
})()`

// a11yReport is what a11yJS returns.
type a11yReport struct {
	Lang       string   `json:"lang"`
	Headings   []int    `json:"headings"`
	Unlabelled []string `json:"unlabelled"`
	Nameless   []string `json:"nameless"`
	Texts      []struct {
		Text   string  `json:"text"`
		FG     string  `json:"fg"`
		BG     string  `json:"bg"`
		Size   float64 `json:"size"`
		Weight int     `json:"weight"`
	} `json:"texts"`
}

// checkA11y fails the test for the current page when a form control has no
// label, a button or link no name, the headings skip a level or do not
// start with the one h1, or a text's contrast is below WCAG AA (4.5:1;
// 3:1 for large text).
func (b *browser) checkA11y(page string) {
	b.t.Helper()
	r := value(b, chromedp.Evaluate[a11yReport](a11yJS))
	if r.Lang == "" {
		b.t.Errorf("%s: <html> has no lang", page)
	}
	if len(r.Unlabelled) > 0 {
		b.t.Errorf("%s: form controls without a label: %v", page, r.Unlabelled)
	}
	if len(r.Nameless) > 0 {
		b.t.Errorf("%s: buttons or links without a name: %v", page, r.Nameless)
	}
	if problem := headingProblem(r.Headings); problem != "" {
		b.t.Errorf("%s: headings %v: %s", page, r.Headings, problem)
	}
	if len(r.Texts) == 0 {
		b.t.Errorf("%s: no text found to check the contrast of", page)
	}
	for _, x := range r.Texts {
		ratio, err := contrast(x.FG, x.BG)
		if err != nil {
			b.t.Errorf("%s: %q: %v", page, x.Text, err)
			continue
		}
		need := 4.5
		if x.Size >= 24 || (x.Size >= 18.66 && x.Weight >= 700) {
			need = 3
		}
		if ratio < need {
			b.t.Errorf("%s: %q has contrast %.2f:1 (%s on %s), want at least %.1f:1", page, x.Text, ratio, x.FG, x.BG, need)
		}
	}
}

// headingProblem says what is wrong with a page's heading levels.
func headingProblem(levels []int) string {
	if len(levels) == 0 || levels[0] != 1 {
		return "the first heading is not an h1"
	}
	for i := 1; i < len(levels); i++ {
		if levels[i] == 1 {
			return "more than one h1"
		}
		if levels[i] > levels[i-1]+1 {
			return fmt.Sprintf("h%d follows h%d", levels[i], levels[i-1])
		}
	}
	return ""
}

var rgbRE = regexp.MustCompile(`^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$`)

// contrast is the WCAG 2 contrast ratio of two CSS rgb() colours.
func contrast(fg, bg string) (float64, error) {
	lf, err := luminance(fg)
	if err != nil {
		return 0, err
	}
	lb, err := luminance(bg)
	if err != nil {
		return 0, err
	}
	return (math.Max(lf, lb) + 0.05) / (math.Min(lf, lb) + 0.05), nil
}

// luminance is the relative luminance of an sRGB colour (WCAG 2).
func luminance(c string) (float64, error) {
	m := rgbRE.FindStringSubmatch(c)
	if m == nil {
		return 0, fmt.Errorf("colour %q is not rgb()", c)
	}
	var l [3]float64
	for i := range l {
		v, _ := strconv.Atoi(m[i+1])
		s := float64(v) / 255
		if s <= 0.04045 {
			l[i] = s / 12.92
		} else {
			l[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2], nil
}

func TestContrast_KnownPairs(t *testing.T) {
	for _, c := range []struct {
		fg, bg string
		want   float64
	}{
		{"rgb(0, 0, 0)", "rgb(255, 255, 255)", 21},
		{"rgb(255, 255, 255)", "rgb(255, 255, 255)", 1},
		{"rgb(118, 118, 118)", "rgb(255, 255, 255)", 4.54},
	} {
		got, err := contrast(c.fg, c.bg)
		if err != nil || math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, %v; want %.2f", c.fg, c.bg, got, err, c.want)
		}
	}
	for _, levels := range [][]int{{2}, {1, 3}, {1, 2, 1}} {
		if headingProblem(levels) == "" {
			t.Errorf("headings %v pass", levels)
		}
	}
}

package web

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one step of a browser journey. A step is a page or two; alone it takes well
// under a second, but CI runs the packages in parallel on 2 cores next to Chromium and
// PostgreSQL, so the bound is generous: it only turns a hang into a failure that names the step.
const stepTimeout = 2 * time.Minute

// tab is one Chromium tab of a browser test. A journey is a sequence of named steps; each runs
// with its own deadline, and a failing one names itself and leaves a screenshot and the page's
// HTML next to the test's other artifacts.
type tab struct {
	t   *testing.T
	ctx context.Context // the browser's: no deadline, each step has its own
	dir string          // screenshots, saved pages and downloads
	n   int             // steps run, for the names of the evidence files
}

// chrome starts Debian's headless Chromium (make test installs it) with downloads saved into the
// test's artifacts directory, named by the download's id, and download events on.
func chrome(t *testing.T, extra ...chromedp.ExecAllocatorOption) *tab {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: `make test` installs Debian's chromium package")
	}
	dir := filepath.Join(artifactsDir(t), t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 1000))
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	// The first call that needs the browser, and the first that needs the tab, bind their lives
	// to that call's context (see chromedp.Run): both happen here, on a context without a
	// deadline, so a step's deadline ends that step only. A watchdog bounds the start instead.
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	watchdog := time.AfterFunc(stepTimeout, cancel2)
	start := time.Now()
	err = chromedp.Do(ctx) // opens the tab
	if err == nil {
		_, err = chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true),
		})
	}
	if !watchdog.Stop() {
		err = fmt.Errorf("no answer within %s (%v)", stepTimeout, err)
	}
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Logf("browser started in %s", time.Since(start).Round(time.Millisecond))
	b := &tab{t: t, ctx: ctx, dir: dir}
	return b
}

func ptrTo[T any](v T) *T { return &v }

// artifactsDir is where screenshots go: $TEST_ARTIFACTS or test-artifacts/ at the repository root.
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("TEST_ARTIFACTS"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "test-artifacts")
}

// do runs one named step of the journey within stepTimeout. On failure the test stops with the
// step's name, how long it ran, and where its screenshot and HTML are; every step's duration is
// in the test's log.
func (b *tab) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.n++
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	start := time.Now()
	err := chromedp.Do(ctx, actions...)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		b.t.Fatalf("browser step %d %q failed after %s: %v\n%s", b.n, name, took, err, b.evidence(name))
	}
	b.t.Logf("browser step %d %q: %s", b.n, name, took)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// evidence saves the tab's screenshot and HTML as they are now and says where they are.
func (b *tab) evidence(name string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	base := filepath.Join(b.dir, fmt.Sprintf("failed-%02d-%s", b.n, strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(name), "-"), "-")))
	var notes []string
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		notes = append(notes, "page "+loc)
	} else {
		notes = append(notes, "no location: "+err.Error())
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		notes = append(notes, saved(base+".html", []byte(html)))
	} else {
		notes = append(notes, "no HTML: "+err.Error())
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
		notes = append(notes, saved(base+".png", png))
	} else {
		notes = append(notes, "no screenshot: "+err.Error())
	}
	return strings.Join(notes, "; ")
}

func saved(path string, b []byte) string {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err.Error()
	}
	return "saved " + path
}

// shot saves a screenshot of the whole page into the test's artifacts.
func (b *tab) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644)
	})
}

// into runs an action that returns a value and stores it.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := a(ctx, t)
		*dst = v
		return err
	})
}

// loads runs an action that leads to another page (a submit, a click on a link) and waits until
// that page has replaced the current one and shows sel. Waiting for sel alone could match the
// page being left (the dashboard's filters lead to another dashboard) and let the next action
// run on a page that is going away. The page being left is marked first; the new document
// does not carry the mark.
func loads(trigger chromedp.Action[chromedp.Void], sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		into(new(bool), chromedp.Evaluate[bool](`document.documentElement.dataset.leaving = "1", true`)),
		trigger,
		chromedp.WaitNotPresent(`html[data-leaving]`),
		chromedp.WaitVisible(sel),
	)
}

// signIn signs in on the login page and waits for the page that follows to show ready.
func signIn(base, email, password, ready string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, password),
		loads(chromedp.Submit(`input[name=password]`), ready),
	)
}

// downloaded is a file that Chromium saved.
type downloaded struct {
	Path     string // where it is on disk
	Filename string // the name the server suggested (Content-Disposition)
}

// download clicks the link and waits until Chromium has saved the whole file (its download
// events say so), within stepTimeout.
func (b *tab) download(name, link string) downloaded {
	b.t.Helper()
	var got downloaded
	b.do(name, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// Subscribed before the click, so no event is missed.
		begins := chromedp.BrowserEvents(lctx, cdpbrowser.DownloadWillBegin)
		progress := chromedp.BrowserEvents(lctx, cdpbrowser.DownloadProgress)
		if _, err := chromedp.Click(link)(ctx, t); err != nil {
			return err
		}
		var guid string
		for ev, err := range begins {
			if err != nil {
				return fmt.Errorf("waiting for the download to begin: %w", err)
			}
			guid, got.Filename = ev.GUID, ev.SuggestedFilename
			break
		}
		if guid == "" {
			return errors.New("no download began")
		}
		for ev, err := range progress {
			if err != nil {
				return fmt.Errorf("waiting for %s to finish: %w", got.Filename, err)
			}
			if ev.GUID != guid {
				continue
			}
			switch ev.State {
			case cdpbrowser.DownloadProgressStateCompleted:
				saved := filepath.Join(b.dir, guid)
				if ev.FilePath != "" {
					saved = ev.FilePath
				}
				// Kept under the server's name, beside the screenshots.
				got.Path = filepath.Join(b.dir, filepath.Base(got.Filename))
				return os.Rename(saved, got.Path)
			case cdpbrowser.DownloadProgressStateCanceled:
				return fmt.Errorf("download of %s canceled", got.Filename)
			}
		}
		return errors.New("download events ended")
	}))
	return got
}

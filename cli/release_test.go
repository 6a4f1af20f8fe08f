package cli

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
)

func TestRelease(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.ReleasePath, func(w http.ResponseWriter, r *http.Request) {
		switch pod := r.URL.Query().Get(api.PodParam); pod {
		case "shop/web":
			serveJSON(api.IsolatedPod{Pod: "shop/web", UID: "u-1", Rule: "container-drift", Since: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)})(w, r)
		default:
			http.Error(w, "no isolated pod matches \""+pod+"\" (isolated: shop/web)", http.StatusConflict)
		}
	})
	cfg := writeConfig(t, fakeDaemon(t, mux), filepath.Join(t.TempDir(), "events.jsonl"), "")

	stdout, stderr, code := runCLI(t, "release", "--config", cfg, "shop/web")
	if code != 0 || stdout != "released shop/web (uid u-1): isolated by rule container-drift since 2025-03-01T12:00:00Z\n" || stderr != "" {
		t.Errorf("release shop/web: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The daemon's refusal is shown as it said it.
	stdout, stderr, code = runCLI(t, "release", "--config", cfg, "web")
	if code != 1 || stdout != "" || stderr != "podguard release: no isolated pod matches \"web\" (isolated: shop/web)\n" {
		t.Errorf("release web: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestReleaseErrors(t *testing.T) {
	const which = "podguard release: give the pod to release: a name, namespace/name or uid (see `podguard status`)\n"
	for _, args := range [][]string{{"release"}, {"release", "a", "b"}} {
		if _, stderr, code := runCLI(t, args...); code != 1 || stderr != which {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "podguard.sock")
	cfg := writeConfig(t, sock, filepath.Join(dir, "events.jsonl"), "")
	_, stderr, code := runCLI(t, "release", "--config", cfg, "web")
	want := "podguard release: podguard is not running: nothing answers on " + sock +
		"; start it with `podguard run` (or `systemctl start podguard`), or pass the --config the daemon uses\n"
	if code != 1 || stderr != want {
		t.Errorf("release with no daemon: exit %d, stderr %q", code, stderr)
	}
}

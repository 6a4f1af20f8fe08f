package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnitVerifies runs systemd-analyze verify on the shipped unit,
// pointed at the binary under test.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd)")
	}
	unit, err := os.ReadFile("../systemd/podguard.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "ExecStart=/usr/bin/podguard run"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	p := filepath.Join(t.TempDir(), "podguard.service")
	writeFile(t, p, strings.ReplaceAll(string(unit), "/usr/bin/podguard", podguardBin))
	out, err := exec.Command(analyze, "verify", p).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestReadyNotification checks that `podguard run` tells systemd it is
// ready (READY=1 on NOTIFY_SOCKET) once it serves its API, with a STATUS
// (what `systemctl status` shows) that says whether the probes are attached,
// and that it says STOPPING=1 when it stops.
func TestReadyNotification(t *testing.T) {
	for _, c := range []struct{ name, config, status string }{
		{"enabled", "", "STATUS=probes attached; 1 ruleset(s) in force"},
		{"disabled", "enabled = false", "STATUS=probes detached: enabled = false; 1 ruleset(s) in force"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := newInstance(t, c.config)
			writeFile(t, filepath.Join(in.rules, "default.toml"), "name = \"default\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n")
			sock := filepath.Join(in.dir, "notify.sock")
			conn, err := listenUnixgram(sock)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			t.Setenv("NOTIFY_SOCKET", sock)
			in.start(t)
			buf := make([]byte, 512)
			n, err := conn.Read(buf)
			if want := "READY=1\n" + c.status; err != nil || string(buf[:n]) != want {
				t.Fatalf("notification %q, err %v; want %q", buf[:n], err, want)
			}
			in.stop(t)
			n, err = conn.Read(buf)
			if err != nil || string(buf[:n]) != "STOPPING=1" {
				t.Fatalf("notification at stop %q, err %v; want STOPPING=1", buf[:n], err)
			}
		})
	}
}

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
// ready (READY=1 on NOTIFY_SOCKET) once it serves its API.
func TestReadyNotification(t *testing.T) {
	in := newInstance(t, "")
	sock := filepath.Join(in.dir, "notify.sock")
	conn, err := listenUnixgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	os.Setenv("NOTIFY_SOCKET", sock)
	defer os.Unsetenv("NOTIFY_SOCKET")
	in.start(t)
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	if err != nil || !strings.Contains(string(buf[:n]), "READY=1") {
		t.Fatalf("notification %q, err %v", buf[:n], err)
	}
}

package trusted

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func write(tb testing.TB, path, data string, mode os.FileMode) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		tb.Fatal(err)
	}
}

func refused(tb testing.TB, err error, want string) {
	tb.Helper()
	var te *Error
	if !errors.As(err, &te) || !strings.Contains(te.Msg, want) {
		tb.Errorf("error %v, want a refusal containing %q", err, want)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	write(t, good, "name = \"x\"\n", 0o644)
	if data, err := ReadFile(good, 1<<20); err != nil || string(data) != "name = \"x\"\n" {
		t.Fatalf("a root file in a root directory: %q, %v", data, err)
	}
	big := filepath.Join(dir, "big.toml")
	write(t, big, strings.Repeat("#", 100), 0o644)
	_, err := ReadFile(big, 10)
	refused(t, err, "100 bytes, larger than the 10-byte limit")

	gw := filepath.Join(dir, "gw.toml")
	write(t, gw, "", 0o664)
	_, err = ReadFile(gw, 1<<20)
	refused(t, err, "writable by group or others (mode 0664)")

	if os.Geteuid() == 0 {
		theirs := filepath.Join(dir, "theirs.toml")
		write(t, theirs, "", 0o644)
		os.Chown(theirs, 1000, 1000)
		_, err = ReadFile(theirs, 1<<20)
		refused(t, err, "owned by uid 1000")
	}

	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(fifo, 1<<20) // must not hang
	refused(t, err, "not a regular file")

	dangling := filepath.Join(dir, "dangling.toml")
	os.Symlink(filepath.Join(dir, "absent"), dangling)
	_, err = ReadFile(dangling, 1<<20)
	refused(t, err, "symlink to a file that does not exist")

	_, err = ReadFile(dir, 1<<20)
	refused(t, err, "is a directory")
}

// TestConfigMapLayout: a ruleset reached through ConfigMap-style symlinks
// (x.toml -> ..data/x.toml, ..data -> ..2026_12_03/) is trusted when every
// directory on the resolved path is, and refused when the directory the
// link points into can be written by others.
func TestConfigMapLayout(t *testing.T) {
	vol := t.TempDir()
	gen := filepath.Join(vol, "..2026_12_03")
	write(t, filepath.Join(gen, "x.toml"), "ok\n", 0o644)
	os.Symlink("..2026_12_03", filepath.Join(vol, "..data"))
	os.Symlink("..data/x.toml", filepath.Join(vol, "x.toml"))
	if data, err := ReadFile(filepath.Join(vol, "x.toml"), 1<<20); err != nil || string(data) != "ok\n" {
		t.Fatalf("ConfigMap layout: %q, %v", data, err)
	}
	os.Chmod(gen, 0o777)
	_, err := ReadFile(filepath.Join(vol, "x.toml"), 1<<20)
	refused(t, err, "directory "+gen+" above it is writable by group or others")
}

// TestSwapBetweenOpenAndCheck: a file replaced after podguard opened it
// (an attacker racing the check) cannot get its content read: the check
// and the read are on the descriptor opened, so podguard reads the file
// it checked.
func TestSwapBetweenOpenAndCheck(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rules.toml")
	write(t, p, "trusted\n", 0o644)
	evil := filepath.Join(dir, "evil")
	write(t, evil, "evil\n", 0o666)
	afterOpen = func(string) {
		if err := os.Rename(evil, p); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { afterOpen = func(string) {} })
	data, err := ReadFile(p, 1<<20)
	if err != nil || string(data) != "trusted\n" {
		t.Errorf("read %q, %v; want the content of the file opened and checked", data, err)
	}
	afterOpen = func(string) {}
	_, err = ReadFile(p, 1<<20) // the swapped-in file itself is refused
	refused(t, err, "writable by group or others")
}

func TestOwnDir(t *testing.T) {
	base := t.TempDir()
	d := filepath.Join(base, "a", "podguard")
	f, err := OwnDir(d, 0o750)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(d); fi == nil || !fi.IsDir() || fi.Mode().Perm()&^0o750 != 0 {
		t.Errorf("created %v", fi)
	}
	os.Chmod(d, 0o777)
	if f, err = OwnDir(d, 0o750); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o750 {
		t.Errorf("podguard's own directory left %04o, want tightened to 0750", fi.Mode().Perm())
	}
	// A directory shared with others is never chmodded: refused if
	// others can write it, used as is if they can only read it.
	shared := filepath.Join(base, "log")
	os.Mkdir(shared, 0o775)
	os.Chmod(shared, 0o775)
	_, err = OwnDir(shared, 0o750)
	refused(t, err, "writable by group or others (mode 0775)")
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o775 {
		t.Errorf("a shared directory was changed to %04o", fi.Mode().Perm())
	}
	os.Chmod(shared, 0o755)
	if f, err = OwnDir(shared, 0o750); err != nil {
		t.Errorf("a root 0755 directory: %v", err)
	} else {
		f.Close()
	}
	link := filepath.Join(base, "link")
	os.Symlink(d, link)
	_, err = OwnDir(link, 0o750)
	refused(t, err, "is a symlink or not a directory")
	if os.Geteuid() == 0 {
		theirs := filepath.Join(base, "theirs")
		os.Mkdir(theirs, 0o700)
		os.Chown(theirs, 1000, 1000)
		_, err = OwnDir(theirs, 0o700)
		refused(t, err, "owned by uid 1000")
	}
}

func TestStateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	k1, err := StateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	mac := k1.Sign([]byte("pod-a isolated"))
	k2, err := StateKey(dir)
	if err != nil || !k2.Verify([]byte("pod-a isolated"), mac) {
		t.Fatalf("the key did not survive a restart: %v", err)
	}
	if k2.Verify([]byte("pod-b isolated"), mac) || k2.Verify([]byte("pod-a isolated"), "00"+mac[2:]) || k2.Verify(nil, "zz") {
		t.Error("a forged record verified")
	}
	if fi, _ := os.Stat(filepath.Join(dir, keyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %04o", fi.Mode().Perm())
	}
	// A key others could read is replaced; what it signed is then refused.
	os.Chmod(filepath.Join(dir, keyFile), 0o644)
	k3, err := StateKey(dir)
	if err != nil || k3.Verify([]byte("pod-a isolated"), mac) {
		t.Errorf("an exposed key was kept: %v", err)
	}
	// A symlink planted as the key is not followed.
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep me"), 0o600)
	os.Remove(filepath.Join(dir, keyFile))
	os.Symlink(victim, filepath.Join(dir, keyFile))
	if _, err := StateKey(dir); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me" {
		t.Errorf("wrote through a planted symlink: %q", data)
	}
}

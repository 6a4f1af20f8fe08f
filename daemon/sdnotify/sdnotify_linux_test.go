package sdnotify

import (
	"fmt"
	"os"
	"testing"
)

// TestNotifyAbstract: systemd may name an abstract socket, "@name".
func TestNotifyAbstract(t *testing.T) {
	name := fmt.Sprintf("podguard-sdnotify-test-%d", os.Getpid())
	expectState(t, listen(t, "\x00"+name, "@"+name), "STOPPING=1")
}

package cli

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/probes"
)

// cmdKernel lists the kernel features podguard probes for; it fails when
// one it cannot do without is missing.
func cmdKernel(_ context.Context, c *call) error {
	feats := probes.ProbeFeatures()
	if c.asJSON() {
		return c.printJSON(feats)
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	fmt.Fprintf(c.Stdout, "kernel %s\n\n", unix.ByteSliceToString(uts.Release[:]))
	tw := c.table()
	fmt.Fprintln(tw, "FEATURE\tPRESENT\tDETAIL\tWITHOUT IT")
	missingRequired := false
	for _, f := range feats {
		present := "yes"
		if !f.Present {
			present = "NO"
			missingRequired = missingRequired || f.Fallback == ""
		}
		fallback := f.Fallback
		if fallback == "" {
			fallback = "(required)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, present, f.Detail, fallback)
	}
	tw.Flush()
	if missingRequired {
		return fmt.Errorf("a required kernel feature is missing: podguard cannot run here")
	}
	return nil
}

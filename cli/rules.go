package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/podguard/podguard/daemon/catalog"
)

// cmdRules lists the managed rule catalog.
func cmdRules(_ context.Context, c *call) error {
	all := catalog.All()
	if c.asJSON() {
		return c.printJSON(all)
	}
	tw := c.table()
	fmt.Fprintln(tw, "ID\tTACTIC\tTECHNIQUE\tEVENTS\tSUGGESTED\tNAME")
	for _, r := range all {
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\n", r.ID, r.Tactic, r.TacticName, r.Technique, strings.Join(r.Events, ","), r.Mitigation, r.Name)
	}
	return tw.Flush()
}

package test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemo is `make demo`: a local node, podguard with a demo ruleset, a
// labelled pod and an unlabelled one, real attacks, and what an operator
// sees. It runs only when PODGUARD_DEMO=1 (make demo sets it).
func TestDemo(t *testing.T) {
	if os.Getenv("PODGUARD_DEMO") != "1" {
		t.Skip("the demo runs with `make demo`")
	}
	say := func(format string, args ...any) { fmt.Printf("\n\033[1m== "+format+"\033[0m\n", args...) }
	show := func(args ...string) {
		fmt.Printf("\n$ podguard %s\n", strings.Join(args, " "))
		cmd := exec.Command(podguardBin, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		cmd.Run()
	}
	start := time.Now()
	say("bringing up a local node: containerd (CRI), runc, CNI bridge, a busybox image")
	rules := map[string]string{
		"00-default.toml": "name = \"default\"\ndescription = \"every managed rule, every pod, logged\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n",
		"php.toml": `name = "php-frontends"
description = "Lock down the PHP tier"
[labels]
app = "php"
[[rule]]
id = "shadow-file-read"
mitigation = "isolate"
[[rule]]
id = "container-drift"
mitigation = "terminate"
`,
	}
	n, in := guardedNode(t, "cluster = \"demo\"", rules)
	fmt.Printf("node up; podguard running with rulesets %v\n", []string{"default (log everything)", "php-frontends (app=php: isolate, terminate)"})
	show("status", "--config", in.config)

	say("two pods in namespace shop: checkout (app=php) and catalog (app=catalog)")
	checkout := n.CreatePod(t, sleeperNS("checkout", "shop", map[string]string{"app": "php"}))
	catalog := n.CreatePod(t, sleeperNS("catalog", "shop", map[string]string{"app": "catalog"}))
	gw := gateway(t, n)
	fmt.Printf("checkout reaches the gateway %s: %v; catalog: %v\n", gw, reaches(t, checkout, gw), reaches(t, catalog, gw))

	say("attack 1: both pods read /etc/shadow (credential access, T1003.008)")
	checkout.Exec(t, "app", "cat", "/etc/shadow")
	catalog.Exec(t, "app", "cat", "/etc/shadow")
	in.waitEvent(t, checkout, "shadow-file-read")
	in.waitEvent(t, catalog, "shadow-file-read")
	fmt.Printf("checkout reaches the gateway: %v (isolated); catalog: %v (logged only)\n", reaches(t, checkout, gw), reaches(t, catalog, gw))

	say("attack 2: a tool dropped into a php pod and run (container drift)")
	cart := n.CreatePod(t, sleeperNS("cart", "shop", map[string]string{"app": "php"}))
	cartSandbox := cart.SandboxPID()
	out, _ := cart.Exec(t, "app", "sh", "-c", "cp /bin/busybox /tmp/miner; /tmp/miner echo 'this line never prints'; echo exit status $?")
	fmt.Printf("in the pod: %s", out)
	in.waitEvent(t, cart, "container-drift")
	time.Sleep(500 * time.Millisecond)
	fmt.Printf("the kernel killed the tool before it ran (exit status 137 = SIGKILL); the pod was then terminated: sandbox running: %v\n", alive(cartSandbox))

	say("what the operator sees")
	show("events", "--config", in.config)
	show("status", "--config", in.config)

	say("lifting the isolation")
	show("release", "--config", in.config, "shop/checkout")
	fmt.Printf("checkout reaches the gateway again: %v\n", reaches(t, checkout, gw))
	say("done in %v; cleaning up the node", time.Since(start).Round(time.Second))
}

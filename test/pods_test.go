package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/test/node"
)

// eventWait bounds how long a test waits for an event to be written: the
// pipeline takes milliseconds; the margin is for a loaded CI machine.
const eventWait = 15 * time.Second

// guardedNode starts the shared test node and a podguard watching it with
// the given rulesets (file name → TOML) and extra config.
func guardedNode(t testing.TB, extra string, rules map[string]string) (*node.Node, *instance) {
	t.Helper()
	n := node.Start(t)
	in := newInstance(t, extra+fmt.Sprintf("\n[containerd]\naddress = %q\nnamespace = %q\n", n.Socket(), n.Namespace()))
	for name, src := range rules {
		writeFile(t, filepath.Join(in.rules, name), src)
	}
	in.start(t)
	in.waitStatus(t, 30*time.Second, "containerd connected and probes attached", func(s api.Status) bool {
		return s.Containerd.Connected && len(s.Probes.Attached) > 0
	})
	return n, in
}

// events reads every event written so far.
func (in *instance) events(t testing.TB) []events.Event {
	t.Helper()
	f, err := os.Open(filepath.Join(in.dir, "events.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []events.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev events.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("events file holds a bad line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// waitEvent waits for an event of rule in pod and returns it.
func (in *instance) waitEvent(t testing.TB, pod *node.Pod, rule string) events.Event {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		for _, ev := range in.events(t) {
			if ev.Pod.UID == pod.UID && ev.Rule.ID == rule {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for pod %s within %v; events: %s\nlog:\n%s", rule, pod.Name, eventWait, summarize(in.events(t)), in.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rulesFor lists the rule ids of the pod's events.
func rulesFor(evs []events.Event, pod *node.Pod) map[string]int {
	out := map[string]int{}
	for _, ev := range evs {
		if ev.Pod.UID == pod.UID {
			out[ev.Rule.ID] += ev.Count
		}
	}
	return out
}

func summarize(evs []events.Event) string {
	var s []string
	for _, ev := range evs {
		s = append(s, fmt.Sprintf("%s/%s:%s(%s %s)", ev.Pod.Namespace, ev.Pod.Name, ev.Rule.ID, ev.Mitigation.Action, ev.Mitigation.Result))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// gateway is the test bridge's address, the pods' first hop.
func gateway(t testing.TB, n *node.Node) string {
	p, err := netip.ParsePrefix(n.Subnet())
	if err != nil {
		t.Fatalf("node subnet %q: %v", n.Subnet(), err)
	}
	return p.Addr().Next().String()
}

// reaches reports whether the pod can ping addr.
func reaches(t testing.TB, p *node.Pod, addr string) bool {
	t.Helper()
	_, code := p.Exec(t, "app", "ping", "-c", "1", "-W", "1", addr)
	return code == 0
}

func sleeper(name string, labels map[string]string) node.PodSpec { return sleeperNS(name, "", labels) }

func sleeperNS(name, namespace string, labels map[string]string) node.PodSpec {
	return node.PodSpec{Name: name, Namespace: namespace, Labels: labels, Containers: []node.ContainerSpec{{Name: "app", Command: []string{"sleep", "infinity"}}}}
}

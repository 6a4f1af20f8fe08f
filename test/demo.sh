#!/usr/bin/env bash
# The README's first command: shows podguard doing its job on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: sudo make demo"; exit 1; }
work=$(mktemp -d /tmp/podguard-demo.XXXXXX)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/config.toml" <<CFG
# A private demo instance: its own socket and state, no rules directory yet,
# so the rulesets built into the binary are in force.
rules_dir = "$work/rules.d"
state_dir = "$work/state"
[api]
socket = "$work/run/podguard.sock"
[events]
file = "$work/events.jsonl"
CFG

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "podguard rules: the managed detections"
./podguard rules
step "podguard run (built-in rulesets)"
./podguard run --config "$work/config.toml" 2>"$work/daemon.log" &
pid=$!
for _ in $(seq 50); do ./podguard status --config "$work/config.toml" >/dev/null 2>&1 && break; sleep 0.1; done
./podguard status --config "$work/config.toml"

step "an operator adds a rules directory with a broken ruleset"
mkdir -p "$work/rules.d"
cat >"$work/rules.d/php.toml" <<'R'
name = "php-frontends"
[labels]
app = "php"
[[rule]]
id = "container-drfit"
mitigation = "isolate"
R
sleep 0.5
./podguard validate --config "$work/config.toml" || true
./podguard status --config "$work/config.toml"

step "the operator fixes it; podguard picks it up without a restart"
sed -i 's/container-drfit/container-drift/' "$work/rules.d/php.toml"
sleep 0.5
./podguard status --config "$work/config.toml"
step "daemon log"
cat "$work/daemon.log"

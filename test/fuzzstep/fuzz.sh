#!/usr/bin/env bash
# fuzz.sh runs Go fuzz targets one after another, each for a bounded budget,
# and fails only when a target fails.
#
#   fuzz.sh PKG:TARGET:BUDGET...
#
# BUDGET is passed to -fuzztime: an execution count ("200000x", what CI uses)
# or a duration ("2m", for longer local runs). A count has no wall-clock
# deadline, so its outcome does not depend on how busy the machine is: Go's
# fuzz coordinator before 1.27 can report a duration's deadline as a failure
# when a worker is mid-execution as it fires (go.dev/issue/75804).
#
# A target that finds a failing input fails the step, and the step names
# the reproducer Go wrote under the package's testdata/fuzz/ and how to
# replay it; plain `go test` replays it from then on. A target that fails
# without writing an input (a crash of the harness itself) fails too, and
# says so.
#
# FUZZ_MINIMIZE bounds the minimization of each new input (default 2000x,
# also a count).
set -uo pipefail
GO=${GO:-go}
minimize=${FUZZ_MINIMIZE:-2000x}
[ $# -gt 0 ] || { echo "usage: fuzz.sh PKG:TARGET:BUDGET..." >&2; exit 2; }

failed=0
start=$SECONDS
for spec in "$@"; do
	IFS=: read -r pkg target budget <<<"$spec"
	if [ -z "$pkg" ] || [ -z "$target" ] || [ -z "$budget" ]; then
		echo "fuzz: bad target '$spec': want PKG:TARGET:BUDGET, e.g. ./probes:FuzzDecode:150000x" >&2
		exit 2
	fi
	log=$(mktemp)
	t0=$SECONDS
	"$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" -fuzzminimizetime "$minimize" "$pkg" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $pkg $target: $budget passed in $((SECONDS - t0)) s"
	else
		failed=1
		input=$(sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$log" | tail -n 1)
		if [ -n "$input" ]; then
			echo "fuzz: $pkg $target FOUND A FAILING INPUT: $pkg/$input"
			echo "fuzz: replay it with: go test -run '^${target}/${input##*/}\$' $pkg"
		else
			echo "fuzz: $pkg $target failed (exit $rc) without writing an input: the harness failed, not an input"
			case $budget in *x) ;; *) echo "fuzz: with a duration budget this may be go.dev/issue/75804; CI uses counts" ;; esac
		fi
	fi
	rm -f "$log"
done
echo "fuzz: $# targets in $((SECONDS - start)) s"
exit $failed

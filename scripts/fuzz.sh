#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module for a bounded time each
# (FUZZTIME, default 10s). Go fuzzes one target per invocation, so targets
# are found per package directory first (func FuzzXxx in a _test.go file).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
count=0
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sed 's|^\./||' | sort -u); do
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
		echo "fuzz: ./$dir $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$dir"
		count=$((count + 1))
	done
done
echo "fuzz: ran $count targets"

#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module for a bounded time each
# (FUZZTIME, default 10s). Go runs one fuzz target per invocation, so the
# targets are listed per package first.
set -euo pipefail
fuzztime=${FUZZTIME:-10s}
count=0
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
		count=$((count + 1))
	done
done
echo "fuzz: ran $count targets"

#!/usr/bin/env bash
# test-deps.sh makes sure the external tools the system tests and the
# benchmark drive are installed. As root it installs whatever is missing with
# apt-get (and nothing when all are present); otherwise it lists what is
# missing and leaves the decision to the tests (they fail under CI=true).
set -euo pipefail

# command-or-check  Debian package
checks=(
	"dig bind9-dnsutils"
	"kdig knot-dnsutils"
	"unbound unbound"
	"spfquery spfquery"
	"perl:Mail::SPF libmail-spf-perl"
	"nsd nsd"
	"rbldnsd rbldnsd"
	"dnsperf dnsperf"
	"ip iproute2"
	"unshare util-linux"
	"taskset util-linux"
	"postfix postfix"
	"swaks swaks"
)

missing=()
for c in "${checks[@]}"; do
	read -r what pkg <<<"$c"
	case "$what" in
	perl:*)
		mod=${what#perl:}
		if command -v perl >/dev/null && perl -M"$mod" -e 1 2>/dev/null; then continue; fi
		;;
	*)
		if command -v "$what" >/dev/null 2>&1 || [ -x "/usr/sbin/$what" ]; then continue; fi
		;;
	esac
	missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "test-deps: all test tools present"
	exit 0
fi

# De-duplicate (taskset and unshare share util-linux).
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "test-deps: missing packages: ${missing[*]}"

if [ "$(id -u)" -ne 0 ]; then
	echo "test-deps: not root, not installing; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
	exit 0
fi

# Machines without an init system must not start the daemons these packages
# ship (unbound, nsd, rbldnsd): the tests start their own, on their own ports.
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	added_policy=1
fi
cleanup() { if [ -n "$added_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
# Postfix must install without configuring a system mail server: the policy
# system test runs it from its own config directory, never /etc/postfix.
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
apt-get update </dev/null
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
echo "test-deps: installed ${missing[*]}"

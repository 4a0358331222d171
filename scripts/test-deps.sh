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
	"systemd-analyze systemd"
	"rspamd rspamd"
	"spamassassin spamassassin"
	"lib:libidn.so.12 libidn12"
	"promtool prometheus"
	"tcpdump tcpdump"
	"named bind9"
	"knotd knot"
	"zonemaster-cli zonemaster-cli"
	"whois whois"
	"chromium chromium"
)

# Exim conflicts with Postfix (both are the system MTA), so it is never
# installed: as root this script unpacks Debian's exim4-daemon-light and
# exim4-base into $exim_root, where the Exim system test runs the binary in
# host-checking mode (libidn12 above is its one library Postfix lacks).
exim_root=${WLNS_EXIM_ROOT:-/opt/wlns-test/exim}
need_exim=
if [ ! -x "$exim_root/usr/sbin/exim4" ]; then need_exim=1; fi

missing=()
for c in "${checks[@]}"; do
	read -r what pkg <<<"$c"
	case "$what" in
	perl:*)
		mod=${what#perl:}
		if command -v perl >/dev/null && perl -M"$mod" -e 1 2>/dev/null; then continue; fi
		;;
	lib:*)
		if ldconfig -p 2>/dev/null | grep -q "${what#lib:}"; then continue; fi
		;;
	*)
		if command -v "$what" >/dev/null 2>&1 || [ -x "/usr/sbin/$what" ]; then continue; fi
		;;
	esac
	missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ] && [ -z "$need_exim" ]; then
	echo "test-deps: all test tools present"
	exit 0
fi

# De-duplicate (taskset and unshare share util-linux).
if [ ${#missing[@]} -gt 0 ]; then
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	echo "test-deps: missing packages: ${missing[*]}"
fi
if [ -n "$need_exim" ]; then echo "test-deps: Exim not unpacked in $exim_root"; fi

if [ "$(id -u)" -ne 0 ]; then
	echo "test-deps: not root, not installing; run as root, or: sudo apt-get install -y --no-install-recommends ${missing[*]}"
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
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
	echo "test-deps: installed ${missing[*]}"
fi
if [ -n "$need_exim" ]; then
	debs=$(mktemp -d)
	chown _apt "$debs" 2>/dev/null || true # apt downloads as _apt
	(cd "$debs" && apt-get download exim4-daemon-light exim4-base </dev/null)
	mkdir -p "$exim_root"
	for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$exim_root"; done
	rm -rf "$debs"
	# The tests run it as root: no setuid-root binary outside the package
	# manager's care.
	chmod u-s "$exim_root/usr/sbin/exim4"
	echo "test-deps: unpacked Exim into $exim_root"
fi

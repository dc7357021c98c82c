#!/usr/bin/env bash
# The whole jamless test suite, on a fresh machine.
#
# The fault tests use real system tools: mount (tmpfs, read-only remount),
# setpriv (a child running as an unprivileged user), mkfifo, and logrotate
# against a live writer; the syslog tests start a real rsyslogd (UDP, TCP,
# TLS via GnuTLS, RELP, a Unix socket). They need root. This script installs
# the Debian packages that provide those tools if they are missing, then
# runs the tests.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the fault tests mount file systems and change users: run as root" >&2
  exit 1
fi
need=()
command -v mount >/dev/null || need+=(mount)
command -v mkfifo >/dev/null || need+=(coreutils)
command -v setpriv >/dev/null || need+=(util-linux)
{ command -v logrotate || [ -x /usr/sbin/logrotate ]; } >/dev/null || need+=(logrotate)
{ command -v rsyslogd || [ -x /usr/sbin/rsyslogd ]; } >/dev/null || need+=(rsyslog)
rsyslog_module() { compgen -G "/usr/lib/*/rsyslog/$1.so" >/dev/null || compgen -G "/usr/lib/rsyslog/$1.so" >/dev/null; }
rsyslog_module imrelp || need+=(rsyslog-relp)
rsyslog_module lmnsd_gtls || need+=(rsyslog-gnutls)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

exec cargo test --workspace "$@"

#!/usr/bin/env bash
# The main job on the built-in lab, from a fresh checkout (Linux, root): install what the lab needs,
# build ctl, bring the lab up, form and label the Swarm, initialize/unseal Vault, take a backup of
# each database, run the preflight checks, then deploy the app as a health-gated rolling update and
# check again: the last preflight must find the platform fit to deploy (exit 0).
# Safe to run again: every step says "no changes" where there is nothing to do; Vault is unsealed
# with the keys the first run wrote, and each run takes a new backup.
set -euo pipefail
cd "$(dirname "$0")/.."
ctl() { ./bin/run.js "$@"; }

if [ "$(id -u)" != 0 ]; then echo "The lab needs root (network namespaces, daemons): run with sudo." >&2; exit 2; fi
export DEBIAN_FRONTEND=noninteractive
missing=$(xargs -a scripts/debian-packages.txt dpkg-query -W -f='${Package} ${Status}\n' 2>&1 | grep -v 'install ok installed' | awk '{print $NF}' || true)
if [ -n "$missing" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $(cat scripts/debian-packages.txt); fi
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent

ctl lab up
ctl node bootstrap lab --yes
ctl node label lab --yes
if [ ! -s .lab/vault-keys.json ]; then ctl vault init lab --yes; else ctl vault unseal lab --keys-file .lab/vault-keys.json; fi
# A platform without a recent backup is not fit to deploy (the preflight's backups check): take them.
ctl runbook mariadb-backup lab --yes
ctl runbook pg-backup lab --yes
ctl runbook pgbackrest-setup lab --yes   # WAL archiving into the encrypted pgBackRest repository on h3
ctl runbook pgbackrest-backup lab --yes
ctl backup schedule lab --yes   # weekly full + daily differential backups, run by cron on h3
ctl check preflight lab || true   # shows what is not ready yet; the deploy below runs its own quick preflight
ctl deploy lab --yes --image app=v2 --message "demo deploy"
ctl check preflight lab

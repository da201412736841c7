#!/usr/bin/env bash
# run.sh: try mfabot in Microsoft 365 Agents Playground, headless and
# offline. Starts mfabot in dev mode (empty working dir, its own SQLite),
# the playground pointed at it, and drive.mjs (playwright-core + Chromium),
# which clicks through the welcome card, a few steps and the hand-off, and
# takes screenshots. Stops everything it started. Not part of CI.
#
# Exit 0 only if the welcome card appeared, a button click on it was
# answered, the playground logged no HTTP error from the bot and the bot
# logged no error. See docs/playground.md.
#
# Environment (all optional):
#   PG_WORK          directory for the run (default: a new /tmp/mfabot-playground.XXXXXX)
#   PG_SHOTS         screenshots and results (default $PG_WORK/shots)
#   PG_LANG          en: switch the bot to English first (default: Dutch)
#   PG_NODE_MODULES  node_modules with @microsoft/m365agentsplayground and
#                    playwright-core (default /tmp/playground/node_modules;
#                    installed into $PG_WORK/npm if missing, which needs the npm registry)
#   MFABOT_BIN       a built mfabot (default: go build ./cmd/mfabot into $PG_WORK)
#   PG_CHROMIUM      Chromium binary (default MFABOT_TEST_CHROMIUM or /usr/bin/chromium)
#   PG_BOT_ADDR      bot listen address (default 127.0.0.1:3978)
#   PG_METRICS_ADDR  bot metrics address (default 127.0.0.1:9090)
#   PG_PORT          playground port (default 56150)
#   PG_TIMEOUT       seconds for the whole browser session (default 300)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${PG_WORK:-$(mktemp -d /tmp/mfabot-playground.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
nm=${PG_NODE_MODULES:-/tmp/playground/node_modules}
bot_addr=${PG_BOT_ADDR:-127.0.0.1:3978}
metrics_addr=${PG_METRICS_ADDR:-127.0.0.1:9090}
pg_port=${PG_PORT:-56150}
timeout_s=${PG_TIMEOUT:-300}
shots=${PG_SHOTS:-$work/shots}
chromium=${PG_CHROMIUM:-${MFABOT_TEST_CHROMIUM:-/usr/bin/chromium}}
pg_version=0.2.28
pw_version=1.65.1

say() { echo "[run] $*"; }
die() { echo "[run] FAIL: $*" >&2; exit 1; }

port_busy() { # host:port
	(exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null
}

bot_pid=
pg_pid=
cleanup() {
	local rc=$?
	# Both were started with setsid: stop their whole process groups.
	for p in $pg_pid $bot_pid; do
		kill -TERM -- "-$p" 2>/dev/null || true
	done
	for p in $pg_pid $bot_pid; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$p" 2>/dev/null || true
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$chromium" ] || die "no Chromium at $chromium (set PG_CHROMIUM)"
command -v node >/dev/null || die "node is not installed"
for a in "$bot_addr" "$metrics_addr" "127.0.0.1:$pg_port"; do
	if port_busy "$a"; then
		die "$a is in use; set PG_BOT_ADDR / PG_METRICS_ADDR / PG_PORT to free ports"
	fi
done

# The playground and playwright-core.
if [ ! -x "$nm/.bin/agentsplayground" ] || [ ! -d "$nm/playwright-core" ]; then
	say "installing @microsoft/m365agentsplayground@$pg_version and playwright-core@$pw_version into $work/npm"
	mkdir -p "$work/npm"
	(cd "$work/npm" && npm init -y >/dev/null &&
		npm install --no-audit --no-fund "@microsoft/m365agentsplayground@$pg_version" "playwright-core@$pw_version" >npm.log 2>&1) ||
		die "npm install failed, see $work/npm/npm.log"
	nm=$work/npm/node_modules
fi

# The bot.
if [ -z "${MFABOT_BIN:-}" ]; then
	say "building mfabot"
	(cd "$repo" && go build -o "$work/mfabot" ./cmd/mfabot) || die "go build failed"
	MFABOT_BIN=$work/mfabot
fi

mkdir -p "$work/run" "$shots"
[ -z "$(ls -A "$work/run")" ] || die "$work/run is not empty: the bot must start with a fresh SQLite file"

# A clean environment: no MFABOT_* from the caller, so it is dev mode with
# the demo directory, no LLM, SQLite in the run directory.
say "starting mfabot (dev mode) on $bot_addr"
(cd "$work/run" && exec setsid env -i PATH="$PATH" HOME="$HOME" \
	MFABOT_MODE=dev MFABOT_HTTP_ADDR="$bot_addr" MFABOT_HTTP_METRICS_ADDR="$metrics_addr" \
	"$MFABOT_BIN" serve >"$work/run/bot.log" 2>&1) &
bot_pid=$!
for _ in $(seq 100); do
	curl -fsS -o /dev/null "http://$bot_addr/healthz" 2>/dev/null && break
	kill -0 "$bot_pid" 2>/dev/null || die "mfabot exited: $(tail -5 "$work/run/bot.log")"
	sleep 0.2
done
curl -fsS -o /dev/null "http://$bot_addr/healthz" || die "mfabot did not become healthy; see $work/run/bot.log"

# Both switches are needed, or the playground tries to reach Azure hosts.
say "starting Agents Playground on port $pg_port"
(cd "$work" && exec setsid env APPLICATION_INSIGHTS_NO_STATSBEAT=1 TEAMSAPPTESTER_BROWSER=none \
	"$nm/.bin/agentsplayground" -e "http://$bot_addr/api/messages" -c msteams -p "$pg_port" --disable-telemetry \
	>"$work/playground.log" 2>&1) &
pg_pid=$!
for _ in $(seq 150); do
	grep -q "Listening on" "$work/playground.log" 2>/dev/null && break
	kill -0 "$pg_pid" 2>/dev/null || die "the playground exited: $(tail -5 "$work/playground.log")"
	sleep 0.2
done
# The playground silently takes a random port when its port is taken.
grep -q "Listening on $pg_port\$" "$work/playground.log" ||
	die "the playground is not on port $pg_port: $(head -3 "$work/playground.log")"

say "driving it with Chromium (at most ${timeout_s}s)"
drive_rc=0
PG_URL="http://127.0.0.1:$pg_port" PG_BOT_URL="http://$bot_addr" PG_SHOTS="$shots" PG_NODE_MODULES="$nm" PG_CHROMIUM="$chromium" \
	timeout "$timeout_s" node "$repo/scripts/playground/drive.mjs" || drive_rc=$?

# Give the bot's last turn a moment to be logged.
sleep 1
bot_errors=$(grep -c '"level":"ERROR"' "$work/run/bot.log" || true)
if [ "$bot_errors" -gt 0 ]; then
	say "the bot logged $bot_errors error(s):"
	grep '"level":"ERROR"' "$work/run/bot.log" | head -20
fi
grep '"level":"WARN"' "$work/run/bot.log" | head -20 | sed 's/^/[run] bot warning: /' || true

say "bot log:        $work/run/bot.log"
say "playground log: $work/playground.log"
say "screenshots:    $shots/ (result.json, transcript.txt, playground-log.txt)"
if [ "$drive_rc" -ne 0 ]; then
	[ "$drive_rc" -eq 124 ] && say "the browser session took longer than ${timeout_s}s"
	die "the playground run failed (driver exit $drive_rc)"
fi
[ "$bot_errors" -eq 0 ] || die "the bot logged errors"
say "PASS"

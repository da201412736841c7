#!/usr/bin/env bash
# The rows of docs/performance.md, for one or more builds of mfabot, one
# after the other per row (compare rows of one run: the machine is shared).
#   scripts/loadrows.sh /tmp/mfabot-before /tmp/mfabot-after > rows.jsonl
# Needs the load tool (go build -o /tmp/mfaload ./cmd/mfaload) and, for the
# PostgreSQL rows, MFABOT_TEST_POSTGRES_URL. Loopback only; each run is
# bounded by its journeys and -max.
set -euo pipefail
LOAD="${MFALOAD:-/tmp/mfaload}"
[ "$#" -ge 1 ] || { echo "usage: $0 BIN [BIN...]" >&2; exit 2; }
row() { # name, then mfaload flags
  local name="$1"; shift
  for bin in $BINS; do
    local json
    json=$("$LOAD" -bin "$bin" -cpu 0 "$@" 2>/dev/null | tail -n 1)
    printf '{"row":"%s","bin":"%s",%s\n' "$name" "$bin" "${json#\{}"
  done
}
BINS="$*"
row "1 x 14 journeys, no think time, 1 tenant" -students 1 -journeys 14 -think 0
row "50 students, think 1 s, 1 tenant" -students 50 -think 1s
row "50 students, think 1 s, 50 tenants" -students 50 -think 1s -tenants 50
row "200 students, no think time, 200 tenants" -students 200 -think 0 -tenants 200
row "cold burst: 200 first turns, 200 tenants" -students 200 -turns 1 -think 0 -tenants 200
row "one tenant: 200 students think 5 s, and a probe clicking every 5 s" -students 200 -think 5s -probe 5s
for bin in $BINS; do
  db="$(mktemp -d)/kept.db"
  j=$("$LOAD" -bin "$bin" -cpu 0 -students 200 -journeys 50 -turns 1 -think 0 -tenants 200 -store "sqlite:$db" 2>/dev/null | tail -n 1)
  printf '{"row":"10,000 first turns, 200 at a time, 200 tenants","bin":"%s",%s\n' "$bin" "${j#\{}"
  j=$("$LOAD" -bin "$bin" -cpu 0 -students 50 -think 1s -tenants 50 -first 10001 -store "sqlite:$db" 2>/dev/null | tail -n 1)
  printf '{"row":"then, on that store: 50 new students, think 1 s, 50 tenants","bin":"%s",%s\n' "$bin" "${j#\{}"
  rm -rf "$(dirname "$db")"
done
if [ -n "${MFABOT_TEST_POSTGRES_URL:-}" ]; then
  for bin in $BINS; do
    for spec in "50 students, think 1 s, 50 tenants|-students 50 -think 1s -tenants 50" "200 students, no think time, 200 tenants|-students 200 -think 0 -tenants 200"; do
      name="PostgreSQL: ${spec%%|*}"; flags="${spec#*|}"
      schema="mfaload_$RANDOM$RANDOM"
      psql "$MFABOT_TEST_POSTGRES_URL" -qc "CREATE SCHEMA $schema" >/dev/null
      url="${MFABOT_TEST_POSTGRES_URL}&search_path=$schema"
      # shellcheck disable=SC2086
      j=$("$LOAD" -bin "$bin" -cpu 0 $flags -store "$url" 2>/dev/null | tail -n 1)
      printf '{"row":"%s","bin":"%s",%s\n' "$name" "$bin" "${j#\{}"
      PGOPTIONS=--client-min-messages=warning psql "$MFABOT_TEST_POSTGRES_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null
    done
  done
fi

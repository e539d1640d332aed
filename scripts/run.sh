#!/usr/bin/env bash
# Serves the web app and runs the scheduler beside it; Ctrl-C stops both.
set -u
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-5000}"
"$BIN/assist" scheduler &
scheduler=$!
"$BIN/assist" run --host 127.0.0.1 --port "$PORT" &
web=$!
stop() { kill "$web" "$scheduler" 2>/dev/null; wait "$web" "$scheduler" 2>/dev/null; exit 0; }
trap stop INT TERM
echo "assist: http://127.0.0.1:$PORT (scheduler pid $scheduler). Ctrl-C stops both."
wait -n "$web" "$scheduler"
stop

# Sourced by setup.sh and run.sh: say what each step does as it starts, and keep the long quiet
# ones (pip, npm) visibly alive on one line.

STEPS_STARTED=$SECONDS

# step "what happens now": one line, with the time since the script started.
step() {
  printf '==> [%3ds] %s\n' "$((SECONDS - STEPS_STARTED))" "$*"
}

# with_progress COMMAND...: run it with its output in a log. On a terminal, one line shows the
# seconds it has taken and its latest output line, rewritten in place; elsewhere (CI) a line every
# 15 s. Afterwards one line says how long it took; if it failed, its whole output is printed.
with_progress() {
  local log pid status=0 started=$SECONDS last_note=$SECONDS latest width
  log=$(mktemp)
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -t 1 ]; then
      width=$(( $(tput cols 2>/dev/null || echo 80) - 12 ))
      latest=$(tail -n 1 "$log" 2>/dev/null | tr -d '\r' | cut -c "1-$((width > 20 ? width : 20))")
      printf '\r\033[K    [%3ds] %s' "$((SECONDS - started))" "$latest"
    elif [ $((SECONDS - last_note)) -ge 15 ]; then
      printf '    … still working (%ds, %d lines of output)\n' "$((SECONDS - started))" "$(wc -l <"$log")"
      last_note=$SECONDS
    fi
    sleep 0.5
  done
  wait "$pid" || status=$?
  if [ -t 1 ]; then printf '\r\033[K'; fi
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    printf '    failed after %ds: %s\n' "$((SECONDS - started))" "$*" >&2
    return "$status"
  fi
  rm -f "$log"
  printf '    done in %ds\n' "$((SECONDS - started))"
}

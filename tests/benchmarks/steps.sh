# Sourced by gpu_check.sh and gpu_scale.sh: `step NAME SECONDS COMMAND...` runs COMMAND under a time limit, its
# output shown and kept in $OUT/NAME.log, then says how it ended and how long it took.
step() {
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  echo "== $name (limit ${limit} s)"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
  echo "== $name: exit ${PIPESTATUS[0]} after $(( $(date +%s) - t0 )) s"
}

#!/usr/bin/env bash
# One sitting on a lent GPU machine, as one command: what the GPU is, a measured training step,
# then training with a time limit, continuing the run a previous sitting left. Everything it
# writes goes to OUT as at most six files, so a sitting's results fit what such machines hand back:
#
#   scripts/gpu-session.sh --bundle build/gpu-bundle --out OUT --preset annotated-s4-classification \
#       --minutes 8 [--resume-from OUT_OF_LAST_SITTING/run.tar] [--bench-steps 5] [--bench-bsz B] [--no-bench] \
#       [--allow-software-adapter] [-- more flags for train]
#
# OUT/session.log    the GPU (nvidia-smi), the bundle's adapter line, and what ran, with times
# OUT/bench-step.json  run.sh bench --step: kernels, GPU programs, uploads, read-backs, step time
# OUT/train.log      the trainer's output
# OUT/run.tar        the run folder (checkpoints last/best, metrics.jsonl, summary.json) to hand
#                    to the next sitting with --resume-from
# OUT/metrics.jsonl, OUT/summary.json  copies, to read without unpacking (summary once finished)
#
# Needs only bash, tar and the bundle (no Node.js, no network).
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "gpu-session: $*" >&2; exit 2; }

bundle="" out="" preset="" minutes="" resume_from="" bench_steps=5 bench_bsz=() bench=1 allow=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=${2:-}; shift 2 ;;
    --out) out=${2:-}; shift 2 ;;
    --preset) preset=${2:-}; shift 2 ;;
    --minutes) minutes=${2:-}; shift 2 ;;
    --resume-from) resume_from=${2:-}; shift 2 ;;
    --bench-steps) bench_steps=${2:-}; shift 2 ;;
    --bench-bsz) bench_bsz=(--bsz "${2:-}"); shift 2 ;;
    --no-bench) bench=0; shift ;;
    --allow-software-adapter) allow=(--allow-software-adapter); shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) fail "unknown flag \"$1\" (see --help)" ;;
  esac
done
[ -n "$bundle" ] || fail "--bundle DIR is required: the folder npm run gpu-bundle built"
[ -x "$bundle/run.sh" ] || fail "--bundle $bundle has no run.sh: build it with npm run gpu-bundle -- --out $bundle"
[ -n "$out" ] || fail "--out OUT is required: the folder for this sitting's results"
[ -n "$preset" ] || fail "--preset NAME is required (e.g. annotated-s4-classification)"
[[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "--minutes must be a number of minutes for training, got \"$minutes\""
[[ "$bench_steps" =~ ^[1-9][0-9]*$ ]] && [ "$bench_steps" -ge 3 ] || fail "--bench-steps must be an integer >= 3 (a median of warm steps), got \"$bench_steps\""
if [ -n "$resume_from" ] && [ ! -f "$resume_from" ]; then fail "--resume-from $resume_from does not exist"; fi

bundle=$(cd "$bundle" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/session.log
work=$(mktemp -d "${TMPDIR:-/tmp}/gpu-session.XXXXXX")
trap 'rm -rf "$work"' EXIT
note() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" | tee -a "$log" >&2; }

note "gpu-session: preset $preset, $minutes training minutes, bundle $bundle"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >>"$log" 2>&1 || true
else
  note "no nvidia-smi on this machine"
fi

if [ "$bench" = 1 ]; then
  note "bench --step: $bench_steps measured steps"
  "$bundle/run.sh" bench "${allow[@]}" --step --preset "$preset" --steps "$bench_steps" "${bench_bsz[@]}" --json "$out/bench-step.json" >>"$log" 2>&1 \
    || note "bench --step failed (exit $?); training goes on"
fi

run=$work/run
if [ -n "$resume_from" ]; then
  mkdir -p "$run"
  tar -xf "$resume_from" -C "$run"
  note "resuming from $resume_from"
fi

note "train: --preset $preset --time-limit $minutes --resume $*"
status=0
"$bundle/run.sh" train "${allow[@]}" --preset "$preset" --out "$run" --resume --time-limit "$minutes" "$@" >"$out/train.log" 2>&1 || status=$?
grep '^gpu-bundle:' "$out/train.log" >>"$log" || true
note "train exited with status $status"

# The run folder as one file, written beside and renamed, so a cut-off sitting leaves no half tar.
if [ -d "$run" ]; then
  tar -cf "$out/run.tar.tmp" -C "$run" .
  mv "$out/run.tar.tmp" "$out/run.tar"
  for f in metrics.jsonl summary.json; do [ -f "$run/$f" ] && cp "$run/$f" "$out/$f"; done
fi
note "done: $(ls "$out" | tr '\n' ' ')"
exit "$status"

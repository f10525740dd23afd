#!/usr/bin/env bash
# Everything the GPU issues ask to measure, in one call on the lent GPU machine (README "GPU", shared/GPU.md).
# From the repo root, after `source .gpu/device-env.sh`:
#   OUT=$OUT bash tests/benchmarks/gpu/run-on-device.sh
# Settings (environment): DEVICE=cuda (cpu for a dry run here), BUDGET_S=400 (the whole script's wall time: a
# step starts only when the time it may need is left, and each runs under `timeout`), SIZE=full|tiny (tiny: a
# dry run's small data), GPU_DIR=.gpu (what ../shared/gpu/prepare.sh and pack-carry.sh made), MODELS_TESTS_ARGS
# (runner options for the whole-project step, e.g. `-class NAME` in a dry run; default: every test).
# Writes under $OUT: steps.tsv (step, rc, seconds, start/end epoch), logs/STEP.log, cuda-tests.xml,
# throughput-{torchsharp,python}.json, throughput-compare.{md,json}, bench-{cuda,cpu}.json,
# eval-online.json, gpu-samples.csv (nvidia-smi every 0.5 s), gpu-memory.txt (peak per step), models-tests.xml,
# summary.txt.
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1
: "${OUT:?OUT must name the output folder}"
DEVICE=${DEVICE:-cuda}
BUDGET_S=${BUDGET_S:-400}
SIZE=${SIZE:-full}
GPU_DIR=${GPU_DIR:-.gpu}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUT/logs"
started=$(date +%s)
# pack-carry.sh packed the publishes (the carry limit): unpack them once.
if [ ! -d "$GPU_DIR/StreamDetect.Engine" ] && [ -f "$GPU_DIR/apps.tar.xz" ]; then tar -xJf "$GPU_DIR/apps.tar.xz" -C "$GPU_DIR"; fi
work=$(mktemp -d /tmp/sd-gpu-XXXXXX)
printf 'step\trc\tseconds\tstart_epoch\tend_epoch\n' > "$OUT/steps.tsv"

SD=(dotnet "$GPU_DIR/StreamDetect.Engine/streamdetect.dll")
BENCH=(dotnet "$GPU_DIR/StreamDetect.Benchmarks/StreamDetect.Benchmarks.dll")
TESTS=(dotnet "$GPU_DIR/StreamDetect.Models.Tests/StreamDetect.Models.Tests.dll")

if [ "$SIZE" = tiny ]; then
  BATCHES=1,64; SECONDS_PER_BATCH=0.2; USERS=300; DAYS=3; BENCH_USERS=300; BENCH_DAYS=2; EPOCHS=(--epochs 1)
else
  BATCHES=1,64,256,1024,4096; SECONDS_PER_BATCH=0.5; USERS=4000; DAYS=4; BENCH_USERS=10000; BENCH_DAYS=4; EPOCHS=()
fi

left() { echo $(( BUDGET_S - ($(date +%s) - started) )); }

# step NAME MIN_S MAX_S CMD...: runs CMD under `timeout` for at most MAX_S (less if less is left), output to
# logs/NAME.log; skipped (rc "skipped") when fewer than MIN_S seconds are left.
step() {
  local name=$1 min=$2 max=$3; shift 3
  local l; l=$(left)
  if [ "$l" -lt "$min" ]; then
    printf '%s\tskipped\t0\t%s\t%s\n' "$name" "$(date +%s)" "$(date +%s)" >> "$OUT/steps.tsv"
    echo "== $name: skipped ($l s left, needs $min)"; return 0
  fi
  local t=$(( max < l ? max : l )) s e rc
  echo "== $name (timeout ${t}s, ${l}s left)"
  s=$(date +%s.%N)
  timeout -k 5 "$t" "$@" > "$OUT/logs/$name.log" 2>&1; rc=$?
  e=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }')" "$s" "$e" >> "$OUT/steps.tsv"
  tail -n 4 "$OUT/logs/$name.log"
  echo "== $name: rc $rc, $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }') s"
  return 0
}

# GPU memory and utilisation every 0.5 s for the whole script (gpu-memory.txt gives the peak per step).
sampler=
if command -v nvidia-smi > /dev/null; then
  ( while :; do
      printf '%s,%s\n' "$(date +%s.%N)" "$(nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader,nounits | head -1 | tr -d ' ')"
      sleep 0.5
    done ) > "$OUT/gpu-samples.csv" 2>/dev/null &
  sampler=$!
fi

{ nvidia-smi 2>&1 | head -15; python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1
  echo "nproc $(nproc)"; dotnet --list-runtimes 2>&1; echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; } > "$OUT/machine.txt"
cat "$OUT/machine.txt"

# 1. The CUDA tests of tests/models (xunit.v3 in-process runner; the fixture trains its models on the CPU).
step cuda-tests 30 150 "${TESTS[@]}" -class StreamDetect.Models.Tests.Detection.CudaTests -xml "$OUT/cuda-tests.xml"

# 2. The networks' forward pass alone: TorchSharp, then the same architectures in python torch.
step throughput-torchsharp 20 90 "${BENCH[@]}" model-throughput --device "$DEVICE" --batch-sizes "$BATCHES" --seconds "$SECONDS_PER_BATCH" --json "$OUT/throughput-torchsharp.json"
if [ -f "$OUT/throughput-torchsharp.json" ]; then like=(--like "$OUT/throughput-torchsharp.json"); else like=(--features 40); fi
step throughput-python 20 90 python3 "$here/model_throughput.py" --device "$DEVICE" --batch-sizes "$BATCHES" --seconds "$SECONDS_PER_BATCH" "${like[@]}" --json "$OUT/throughput-python.json"
if [ -f "$OUT/throughput-torchsharp.json" ] && [ -f "$OUT/throughput-python.json" ]; then
  step throughput-compare 1 20 python3 "$here/compare_throughput.py" "$OUT/throughput-torchsharp.json" "$OUT/throughput-python.json" --md "$OUT/throughput-compare.md" --json "$OUT/throughput-compare.json"
fi

# 3. Generated traffic with a drift (for eval --online too), a gru trained on cuda (timed), the engine's bench with it.
step gen 5 60 "${SD[@]}" gen --users "$USERS" --days "$DAYS" --seed 7 --drift-share 0.5 --drift-day $((DAYS - 1)) --out "$work/drift.jsonl"
step train-gru 20 120 "${SD[@]}" train --data "$work/drift.jsonl" --model gru --train-days $((DAYS - 2)) --device "$DEVICE" "${EPOCHS[@]}" --out "$work/gru.sdm"
if [ -f "$work/gru.sdm" ]; then
  step bench-$DEVICE 30 120 "${SD[@]}" bench --users "$BENCH_USERS" --days "$BENCH_DAYS" --model "$work/gru.sdm" --device "$DEVICE" --json "$OUT/bench-$DEVICE.json"
  if [ "$DEVICE" != cpu ]; then
    step bench-cpu 45 120 "${SD[@]}" bench --users "$BENCH_USERS" --days "$BENCH_DAYS" --model "$work/gru.sdm" --device cpu --json "$OUT/bench-cpu.json"
  fi
  # 5. Online learning's trainer on the device, on the drift file (frozen model = the gru above).
  step eval-online 40 90 "${SD[@]}" eval --online --data "$work/drift.jsonl" --model "$work/gru.sdm" --skip-days $((DAYS - 2)) --device "$DEVICE" --json "$OUT/eval-online.json"
fi

# 1b. The whole models test project, with the time that is left.
step models-tests 60 240 "${TESTS[@]}" ${MODELS_TESTS_ARGS:-} -reporter verbose -xml "$OUT/models-tests.xml"

[ -n "$sampler" ] && kill "$sampler" 2> /dev/null
python3 "$here/gpu_memory_per_step.py" "$OUT/steps.tsv" "$OUT/gpu-samples.csv" > "$OUT/gpu-memory.txt" 2>&1 || true
{ echo "device $DEVICE, size $SIZE, $(( $(date +%s) - started )) s"; cat "$OUT/steps.tsv"; echo
  cat "$OUT/throughput-compare.md" 2> /dev/null; echo; cat "$OUT/gpu-memory.txt" 2> /dev/null
  for f in "$OUT"/bench-*.json; do [ -f "$f" ] && { echo "$f"; cat "$f"; }; done
  grep -h '^trained ' "$OUT/logs/train-gru.log" 2> /dev/null
  grep -h -E 'Total:|\[FAIL\]' "$OUT/logs/cuda-tests.log" "$OUT/logs/models-tests.log" 2> /dev/null | tail -n 30
} > "$OUT/summary.txt"
cat "$OUT/summary.txt"
rm -rf "$work"
exit 0

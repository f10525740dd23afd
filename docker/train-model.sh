#!/bin/sh
# One-shot model bootstrap for the compose stack: generates labelled traffic and trains a detector on it
# into OUT (a shared volume), unless a model is already there. The engines start only once this has
# exited 0. A real deployment puts its own model (trained on its own events) at OUT instead.
#   train-model OUT [gen options...]        (MODEL_KIND=ensemble by default)
set -eu
out="$1"; shift
if [ -s "$out" ]; then
  echo "train-model: $out exists; not retraining (remove the volume, or the file, to retrain)"
  exit 0
fi
work="$(dirname "$out")/.training"
rm -rf "$work"
mkdir -p "$work"
dotnet /app/streamdetect.dll gen --out "$work/traffic.jsonl" "$@"
dotnet /app/streamdetect.dll train --data "$work/traffic.jsonl" --model "${MODEL_KIND:-ensemble}" --out "$work/model.sdm"
# Renamed into place only when whole: an engine never sees a half-written model.
mv "$work/model.sdm" "$out"
rm -rf "$work"
echo "train-model: saved $out"

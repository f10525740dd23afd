#!/bin/sh
# Generates labelled traffic and produces it to Kafka (key = userId, header sd-schema=1), partitioned as
# Kafka's default (Java) partitioner does: murmur2 of the key (streamdetect.routing.colocate relies on it).
#   feed-events BOOTSTRAP TOPIC [gen options...]
set -eu
bootstrap="$1"; topic="$2"; shift 2
dotnet /app/streamdetect.dll gen --out - "$@" \
  | sed -n 's/^{"userId":"\([^"]*\)".*/\1\t&/p' \
  | kcat -b "$bootstrap" -t "$topic" -P -X partitioner=murmur2_random -K "$(printf '\t')" -H sd-schema=1

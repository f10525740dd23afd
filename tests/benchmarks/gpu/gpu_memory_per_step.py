#!/usr/bin/env python3
"""Peak GPU memory (nvidia-smi memory.used, MiB) and utilisation per step of run-on-device.sh.

  python3 tests/benchmarks/gpu/gpu_memory_per_step.py steps.tsv gpu-samples.csv
"""
import csv
import os
import sys


def main():
    steps_file, samples_file = sys.argv[1], sys.argv[2]
    if not os.path.exists(samples_file) or os.path.getsize(samples_file) == 0:
        print("no GPU samples (no nvidia-smi)")
        return
    samples = []
    for row in csv.reader(open(samples_file)):
        try:
            samples.append((float(row[0]), float(row[1]), float(row[2])))
        except (ValueError, IndexError):
            continue
    if not samples:
        print("no GPU samples could be read")
        return
    idle = samples[0][1]
    print(f"GPU memory.used before the first step: {idle:.0f} MiB; peak over the run: {max(s[1] for s in samples):.0f} MiB")
    for row in csv.DictReader(open(steps_file), delimiter="\t"):
        if row["rc"] == "skipped":
            continue
        start, end = float(row["start_epoch"]), float(row["end_epoch"])
        inside = [s for s in samples if start <= s[0] <= end]
        if inside:
            print(f"{row['step']:<22} peak memory.used {max(s[1] for s in inside):7.0f} MiB   mean utilisation {sum(s[2] for s in inside) / len(inside):5.1f} %   ({len(inside)} samples)")


if __name__ == "__main__":
    main()

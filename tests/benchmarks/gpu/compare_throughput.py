#!/usr/bin/env python3
"""TorchSharp vs python torch per model and batch size, from the two model-throughput JSON files.

  python3 tests/benchmarks/gpu/compare_throughput.py torchsharp.json python.json [--md FILE] [--json FILE]

ratio = TorchSharp sequences/s / python sequences/s (the goal is >= 0.9).
"""
import argparse
import json


def main():
    p = argparse.ArgumentParser()
    p.add_argument("torchsharp")
    p.add_argument("python")
    p.add_argument("--md")
    p.add_argument("--json")
    a = p.parse_args()
    ts, py = (json.load(open(f)) for f in (a.torchsharp, a.python))
    py_models = {m["kind"]: m for m in py["models"]}
    rows, lines = [], [
        f"TorchSharp ({ts['device']}) vs python torch {py.get('torch')} ({py['device']}, {py.get('gpu')}); window {ts['window']}, ratio = TorchSharp / python sequences/s",
        "",
        "| model | params ts/py | batch | TorchSharp seq/s | python seq/s | ratio | TS p50 ms | py p50 ms | TS p99 ms | py p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in ts["models"]:
        other = py_models.get(m["kind"])
        if other is None:
            continue
        by_batch = {b["batch"]: b for b in other["batches"]}
        for b in m["batches"]:
            o = by_batch.get(b["batch"])
            if o is None:
                continue
            ratio = b["sequences_per_s"] / o["sequences_per_s"]
            rows.append({"kind": m["kind"], "batch": b["batch"], "torchsharp_sequences_per_s": b["sequences_per_s"],
                         "python_sequences_per_s": o["sequences_per_s"], "ratio": ratio,
                         "torchsharp_p50_ms": b["p50_ms"], "python_p50_ms": o["p50_ms"],
                         "torchsharp_p99_ms": b["p99_ms"], "python_p99_ms": o["p99_ms"],
                         "parameters": [m["parameters"], other["parameters"]]})
            lines.append(f"| {m['kind']} | {m['parameters']}/{other['parameters']} | {b['batch']} | {b['sequences_per_s']:.0f} | {o['sequences_per_s']:.0f} | {ratio:.2f} "
                         f"| {b['p50_ms']:.3f} | {o['p50_ms']:.3f} | {b['p99_ms']:.3f} | {o['p99_ms']:.3f} |")
    mem = [f"{m['kind']} {m['cuda_max_memory_allocated_bytes'] / 2**20:.1f} MiB" for m in py["models"] if m.get("cuda_max_memory_allocated_bytes") is not None]
    if mem:
        lines += ["", "python torch.cuda.max_memory_allocated per model (all batch sizes): " + ", ".join(mem)]
    text = "\n".join(lines)
    print(text)
    if a.md:
        open(a.md, "w").write(text + "\n")
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()

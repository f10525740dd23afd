#!/usr/bin/env python3
"""The python-torch twin of `StreamDetect.Benchmarks model-throughput` (tests/benchmarks/Models/ModelThroughput.cs).

Builds the same networks as models/ (random weights, the default hyper-parameters of hocon/streamdetect.conf) and
times the forward pass the same way: inputs made on the device beforehand, eval mode, no_grad, warm-up, then
each batch timed from the call to torch.cuda.synchronize(); at least 5 batches and `--seconds` per batch size.

  python3 tests/benchmarks/gpu/model_throughput.py --device cuda --batch-sizes 1,64,256,1024,4096 \
      [--like torchsharp.json] [--json python.json]

`--like FILE` takes the vocabulary sizes and the feature count from the TorchSharp side's JSON so both time the
same shapes. Also records torch.cuda.max_memory_allocated per model (GPU memory the forward passes need).
"""
import argparse
import json
import math
import time

import torch
from torch import nn
from torch.nn import functional as F


class RecurrentNextEventNetwork(nn.Module):
    """models/Sequence/RecurrentNextEventNetwork.cs: 4 field embeddings -> LSTM/GRU -> type and gap heads."""

    def __init__(self, cell, rows, field, hidden, layers, types, gaps):
        super().__init__()
        self.hidden = hidden
        self.embedding = nn.Embedding(rows, field)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(4 * field, hidden, num_layers=layers, batch_first=True)
        self.type_head = nn.Linear(hidden, types)
        self.gap_head = nn.Linear(hidden, gaps)

    def forward(self, inputs):  # PredictSequence
        b, t = inputs.shape[0], inputs.shape[1]
        x = self.embedding(inputs).reshape(b, t, -1)
        output = self.rnn(x)[0]
        shifted = torch.cat([torch.zeros(b, 1, self.hidden, device=output.device), output.narrow(1, 0, t - 1)], 1)
        return self.type_head(shifted), self.gap_head(shifted)


class CausalSelfAttentionBlock(nn.Module):
    """models/Sequence/CausalSelfAttentionBlock.cs (pre-norm, fused qkv, scaled_dot_product_attention, GELU)."""

    def __init__(self, width, heads, feed_forward):
        super().__init__()
        self.width, self.heads = width, heads
        self.attention_norm = nn.LayerNorm(width)
        self.query_key_value = nn.Linear(width, 3 * width)
        self.projection = nn.Linear(width, width)
        self.feed_forward_norm = nn.LayerNorm(width)
        self.expand = nn.Linear(width, feed_forward)
        self.contract = nn.Linear(feed_forward, width)

    def forward(self, x):
        b, t = x.shape[0], x.shape[1]
        qkv = self.query_key_value(self.attention_norm(x)).reshape(b, t, 3, self.heads, self.width // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True).transpose(1, 2).reshape(b, t, self.width)
        h = x + self.projection(attended)
        return h + self.contract(F.gelu(self.expand(self.feed_forward_norm(h))))


class CausalTransformerNetwork(nn.Module):
    """models/Sequence/CausalTransformerNetwork.cs: begin row + learned positions, causal blocks, final norm, heads."""

    def __init__(self, rows, field, heads, layers, feed_forward, max_positions, types, gaps):
        super().__init__()
        self.width = 4 * field
        self.embedding = nn.Embedding(rows, field)
        self.positions = nn.Embedding(max_positions + 1, self.width)
        self.begin = nn.Parameter(torch.randn(1, 1, self.width) * 0.02)
        self.blocks = nn.ModuleList([CausalSelfAttentionBlock(self.width, heads, feed_forward) for _ in range(layers)])
        self.final_norm = nn.LayerNorm(self.width)
        self.type_head = nn.Linear(self.width, types)
        self.gap_head = nn.Linear(self.width, gaps)

    def forward(self, inputs):
        b, t = inputs.shape[0], inputs.shape[1]
        events = self.embedding(inputs).reshape(b, t, self.width)
        x = torch.cat([self.begin.expand(b, 1, self.width), events], 1)
        x = x + self.positions.weight.narrow(0, 0, t + 1).unsqueeze(0)
        for block in self.blocks:
            x = block(x)
        top = self.final_norm(x.narrow(1, 0, t))
        return self.type_head(top), self.gap_head(top)


class AutoencoderNetwork(nn.Module):
    """models/Reconstruction/AutoencoderNetwork.cs."""

    def __init__(self, features, hidden, bottleneck):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(features, hidden), nn.GELU(), nn.Linear(hidden, bottleneck))
        self.decoder = nn.Sequential(nn.GELU(), nn.Linear(bottleneck, hidden), nn.GELU(), nn.Linear(hidden, features))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build(kind, d):
    if kind in ("lstm", "gru"):
        return RecurrentNextEventNetwork(kind, d["embedding_rows"], 16, 64, 1, d["types"], d["gap_buckets"])
    if kind == "transformer":
        return CausalTransformerNetwork(d["embedding_rows"], 16, 4, 2, 128, d["window"], d["types"], d["gap_buckets"])
    if kind == "ae":
        return AutoencoderNetwork(d["features"], 64, 12)
    raise SystemExit(f"--kinds: '{kind}' is not one of lstm, gru, transformer, ae")


def setting(read):
    """A torch backend flag, or its error as text (newer torch deprecates some of them)."""
    try:
        return read()
    except Exception as error:  # noqa: BLE001 - reported, not fatal
        return f"unreadable: {error}"


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", default="lstm,gru,transformer,ae")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-sizes", default="1,64,256,1024,4096")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--max-iterations", type=int, default=1000)
    parser.add_argument("--like", help="the TorchSharp side's JSON: vocabulary sizes and feature count")
    parser.add_argument("--features", type=int, default=None)
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument("--json")
    a = parser.parse_args()
    dims = {"window": 32, "fields": 4, "embedding_rows": 128, "types": 64, "gap_buckets": 16, "features": a.features}
    if a.like:
        with open(a.like) as f:
            like = json.load(f)
        for k in ("window", "fields", "embedding_rows", "types", "gap_buckets", "features"):
            dims[k] = like[k]
    if dims["features"] is None and "ae" in a.kinds.split(","):
        raise SystemExit("--features N (or --like FILE) is needed for ae")
    if a.torch_threads:
        torch.set_num_threads(a.torch_threads)
    device = torch.device(a.device)
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(7)
    sizes = [int(s) for s in a.batch_sizes.split(",")]
    models = []
    for kind in a.kinds.split(","):
        network = build(kind, dims).to(device).eval()
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        batches = []
        for size in sizes:
            with torch.no_grad():
                if kind == "ae":
                    x = torch.randn(size, dims["features"], device=device)
                else:
                    x = torch.randint(0, dims["embedding_rows"], (size, dims["window"], dims["fields"]), dtype=torch.int64, device=device)
                for _ in range(a.warmup):
                    network(x)
                sync()
                latencies = []
                started = time.perf_counter()
                while len(latencies) < a.max_iterations and (len(latencies) < 5 or time.perf_counter() - started < a.seconds):
                    t0 = time.perf_counter()
                    network(x)
                    sync()
                    latencies.append((time.perf_counter() - t0) * 1000)
            s = sorted(latencies)
            per_second = size * len(latencies) / (sum(latencies) / 1000)
            print(f"python     {kind:<11} {device.type:<4} batch {size:5}: {per_second:12.0f} sequences/s  p50 {percentile(s, .5):8.3f} ms  p99 {percentile(s, .99):8.3f} ms  ({len(latencies)} batches)", flush=True)
            batches.append({"batch": size, "iterations": len(latencies), "sequences_per_s": per_second,
                            "p50_ms": percentile(s, .5), "p99_ms": percentile(s, .99), "mean_ms": sum(latencies) / len(latencies)})
        models.append({"kind": kind, "parameters": sum(p.numel() for p in network.parameters()), "batches": batches,
                       "cuda_max_memory_allocated_bytes": torch.cuda.max_memory_allocated(device) if cuda else None})
    report = {"implementation": "python-torch", "torch": torch.__version__, "device": str(device),
              "gpu": torch.cuda.get_device_name(device) if cuda else None,
              "cudnn_allow_tf32": setting(lambda: torch.backends.cudnn.allow_tf32),
              "matmul_allow_tf32": setting(lambda: torch.backends.cuda.matmul.allow_tf32),
              **dims, "models": models}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()

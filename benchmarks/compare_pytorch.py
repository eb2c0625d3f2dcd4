#!/usr/bin/python3
"""Times one full training step of the study's cnn1 in PyTorch on the CPU, and
optionally Nebula's bench_cpu on the same machine, and prints both.

    /usr/bin/python3 benchmarks/compare_pytorch.py [--nebula build/benchmarks/bench_cpu]

The step is the one bench_cpu's BM_train_step_cnn1 times: batch 100 of 3x100x100
images, 4 x (conv 3x3 valid + ReLU + maxpool 2) with 32, 64, 128, 128 filters,
flatten, dropout 0.5, dense 512 + ReLU, dense 37 + sigmoid, MSE, backward and
Adamax, with Keras's initialisation. PyTorch uses every core
(torch.set_num_threads(os.cpu_count())); the figure is the median of --steps
timed steps after --warmup untimed ones.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def cnn1(outputs=37):
    layers, cin = [], 3
    for filters in (32, 64, 128, 128):
        layers += [nn.Conv2d(cin, filters, 3), nn.ReLU(), nn.MaxPool2d(2)]
        cin = filters
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * 4 * 4, 512), nn.ReLU(), nn.Linear(512, outputs),
               nn.Sigmoid()]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Keras's Glorot-uniform, zero biases
            nn.init.zeros_(m.bias)
    return model


def time_pytorch(batch, warmup, steps):
    torch.manual_seed(1)
    model = cnn1().train()
    optimizer = torch.optim.Adamax(model.parameters(), lr=1e-3, eps=1e-7)
    x = torch.rand(batch, 3, 100, 100)
    target = torch.rand(batch, 37)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(x), target)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def run_nebula(path, extra_args):
    """Runs bench_cpu's cnn1 training-step benchmark; returns (ms per step, images/s, name)."""
    command = [path, "--benchmark_filter=cnn1", "--benchmark_format=json"] + extra_args
    result = subprocess.run(command, check=True, stdout=subprocess.PIPE, universal_newlines=True)
    report = json.loads(result.stdout)
    to_ms = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    for bench in report["benchmarks"]:
        if "cnn1" in bench["name"] and bench.get("run_type", "iteration") == "iteration":
            ms = bench["real_time"] * to_ms[bench.get("time_unit", "ns")]
            return ms, bench.get("items_per_second"), bench["name"]
    raise RuntimeError(f"{path} reported no benchmark whose name contains cnn1")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--steps", type=int, default=10, help="timed steps; the median is reported")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--nebula", metavar="PATH", help="bench_cpu to run for Nebula's figure")
    parser.add_argument("--nebula-args", nargs=argparse.REMAINDER, default=[],
                        help="further arguments for bench_cpu (last on the line)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    print(f"machine: {os.cpu_count()} cores; PyTorch {torch.__version__} with {torch.get_num_threads()} threads; "
          f"batch {args.batch}, median of {args.steps} steps after {args.warmup} warmup", flush=True)
    median, times = time_pytorch(args.batch, args.warmup, args.steps)
    ms = median * 1e3
    print(f"pytorch cnn1 step: {ms:.1f} ms, {args.batch / median:.1f} images/s "
          f"(steps from {min(times) * 1e3:.1f} to {max(times) * 1e3:.1f} ms)", flush=True)

    if args.nebula:
        if args.batch != 100:
            print("note: bench_cpu's cnn1 step uses batch 100", file=sys.stderr)
        nebula_ms, images, name = run_nebula(args.nebula, args.nebula_args)
        images = images if images is not None else 100 / (nebula_ms / 1e3)
        print(f"nebula  cnn1 step: {nebula_ms:.1f} ms, {images:.1f} images/s ({name})")
        print(f"{'nebula' if nebula_ms < ms else 'pytorch'} is faster by {max(ms, nebula_ms) / min(ms, nebula_ms):.2f}x")


if __name__ == "__main__":
    main()

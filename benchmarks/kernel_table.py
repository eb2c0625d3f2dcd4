#!/usr/bin/env python3
"""Pairs bench_kernels' native kernels with cuDNN/cuBLAS in one Markdown table.

    bench_kernels --benchmark_out=k.json --benchmark_out_format=json
    python3 benchmarks/kernel_table.py k.json

Each row: the op and shape, the median time of each implementation (us), the
library's time over native's (> 1: native faster) and native's share of the
card's peak (FLOP/s for convolution and dense, DRAM bytes/s for the rest).
"""
import json
import sys


def main():
    with open(sys.argv[1]) as f:
        runs = json.load(f)["benchmarks"]
    table = {}  # (op, shape) -> {implementation: run}
    for run in runs:
        if run.get("error_occurred"):
            continue
        op, implementation, shape = run["name"].split("/")[:3]
        table.setdefault((op[len("BM_"):], shape), {})[implementation] = run
    print("| op | shape | native (us) | library (us) | library / native | native's share of peak |")
    print("|---|---|---|---|---|---|")
    for (op, shape), impls in table.items():
        native = impls.get("native")
        library = next((impls[k] for k in impls if k != "native"), None)
        if native is None:
            continue
        n_us = native["real_time"]
        l_us, ratio = "", ""
        if library:  # dropout and the optimizer have no library peer
            l_us, ratio = f"{library['real_time']:.1f}", f"{library['real_time'] / n_us:.2f}x"
        print(f"| {op} | {shape} | {n_us:.1f} | {l_us} | {ratio} | {100 * native['peak_share']:.1f}% |")


if __name__ == "__main__":
    main()

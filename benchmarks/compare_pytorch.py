#!/usr/bin/python3
"""Times training steps of the study's models in PyTorch beside Nebula's benchmarks.

Runs PyTorch on the CPU or the GPU and, optionally, Nebula's benchmarks on the
same machine, and prints them side by side.

    /usr/bin/python3 benchmarks/compare_pytorch.py [--nebula build/benchmarks/bench_cpu]
    python3 benchmarks/compare_pytorch.py --device cuda [--nebula-gpu build/benchmarks/bench_train]
                                          [--kernels build/benchmarks/bench_kernels]

The step is the one Nebula's benchmarks time: batch 100, forward, MSE against
random targets, backward and Adamax, with Keras's initialisation. cnn1: 3x100x100
images, 4 x (conv 3x3 valid + ReLU + maxpool 2) with 32, 64, 128, 128 filters,
flatten, dropout 0.5, dense 512 + ReLU, dense 37 + sigmoid. cnn3: 3x70x70 images,
the same convolutions with 96 filters in the second, flatten, dropout 0.5,
dense 96 + ReLU, dropout 0.5, dense 64 + ReLU, dense 37 + sigmoid
(models/cnn1.model, models/cnn3.model).

CPU (--device cpu, the default): cnn1, PyTorch on every core
(torch.set_num_threads(os.cpu_count())); --nebula runs bench_cpu's cnn1 step.

GPU (--device cuda): cnn1 and cnn3 in eager mode and under torch.compile
(default mode; a failure is reported and the rest goes on), with
cudnn.benchmark on and TF32 off (fp32 against Nebula's fp32); each step is
timed between CUDA events. --nebula-gpu runs bench_train (images/s of each
Nebula variant, and its ratio to PyTorch eager). PyTorch's convolutions are
also timed on cnn1's conv shapes (forward, backward data, backward filter) as
bench_kernels times them: inputs rotated past twice the L2 cache, a sample is
one call per copy between two events, the median over --samples samples;
--kernels runs bench_kernels (by default on the same convolutions, see
--kernels-filter) and shows native, cuDNN and PyTorch side by side.

Every figure is the median of --steps timed steps after --warmup untimed ones.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

OUTPUTS = 37


def keras_init(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Keras's Glorot-uniform, zero biases
            nn.init.zeros_(m.bias)
    return model


def conv_stack(filters):
    layers, cin = [], 3
    for f in filters:
        layers += [nn.Conv2d(cin, f, 3), nn.ReLU(), nn.MaxPool2d(2)]
        cin = f
    return layers


def cnn1(outputs=OUTPUTS):
    layers = conv_stack((32, 64, 128, 128))
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * 4 * 4, 512), nn.ReLU(), nn.Linear(512, outputs),
               nn.Sigmoid()]
    return keras_init(nn.Sequential(*layers))


def cnn3(outputs=OUTPUTS):
    # 70 -> 68 -> 34 -> 32 -> 16 -> 14 -> 7 -> 5 -> 2: 128 x 2 x 2 after the convolutions.
    layers = conv_stack((32, 96, 128, 128))
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * 2 * 2, 96), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(96, 64), nn.ReLU(), nn.Linear(64, outputs), nn.Sigmoid()]
    return keras_init(nn.Sequential(*layers))


MODELS = {"cnn1": (cnn1, 100), "cnn3": (cnn3, 70)}  # builder, input size

# bench_kernels' cnn1 convolutions: (name, in channels, out channels, input size), 3x3 valid, with bias.
CNN1_CONVS = [("cnn1_conv1", 3, 32, 100), ("cnn1_conv2", 32, 64, 49), ("cnn1_conv3", 64, 128, 23),
              ("cnn1_conv4", 128, 128, 10)]

TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def make_step(model, forward, x, target):
    optimizer = torch.optim.Adamax(model.parameters(), lr=1e-3, eps=1e-7)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(forward(x), target)
        loss.backward()
        optimizer.step()
        return loss

    return step


# ---- CPU --------------------------------------------------------------------

def time_pytorch(batch, warmup, steps):
    torch.manual_seed(1)
    model = cnn1().train()
    step = make_step(model, model, torch.rand(batch, 3, 100, 100), torch.rand(batch, OUTPUTS))
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
    for bench in report["benchmarks"]:
        if "cnn1" in bench["name"] and bench.get("run_type", "iteration") == "iteration":
            ms = bench["real_time"] * TO_MS[bench.get("time_unit", "ns")]
            return ms, bench.get("items_per_second"), bench["name"]
    raise RuntimeError(f"{path} reported no benchmark whose name contains cnn1")


def main_cpu(args):
    steps = args.steps or 10
    warmup = 3 if args.warmup is None else args.warmup
    torch.set_num_threads(args.threads)
    print(f"machine: {os.cpu_count()} cores; PyTorch {torch.__version__} with {torch.get_num_threads()} threads; "
          f"batch {args.batch}, median of {steps} steps after {warmup} warmup", flush=True)
    median, times = time_pytorch(args.batch, warmup, steps)
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


# ---- GPU --------------------------------------------------------------------

def first_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def time_cuda_steps(step, warmup, steps):
    """Median seconds of step(), each between two CUDA events, after warmup untimed calls."""
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(steps):
        start.record()
        step()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e-3)
    return statistics.median(times)


def time_training_cuda(name, batch, compiled, warmup, steps):
    """Images/s of one training step of `name` on the GPU."""
    torch.manual_seed(1)
    build, size = MODELS[name]
    model = build().cuda().train()
    forward = torch.compile(model) if compiled else model  # default mode
    x = torch.rand(batch, 3, size, size, device="cuda")
    target = torch.rand(batch, OUTPUTS, device="cuda")
    step = make_step(model, forward, x, target)
    return batch / time_cuda_steps(step, warmup, steps)


def l2_bytes():
    size = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 0)
    return size if size > 0 else 64 << 20  # older torch does not say: assume more than any current card


def time_rotated(make_operands, set_bytes, call, samples):
    """Median seconds of call(*operands) with operands rotated past twice the L2 cache,
    as bench_kernels measures: a sample is one call per copy between two events."""
    copies = max(2, 2 * l2_bytes() // set_bytes + 1)
    sets = [make_operands() for _ in range(copies)]

    def one_pass():
        for operands in sets:
            call(*operands)

    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def timed_pass():
        start.record()
        one_pass()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop) * 1e-3

    one_pass()  # cudnn.benchmark picks its algorithm here
    torch.cuda.synchronize()
    warm = 0.0
    for _ in range(50):
        warm += timed_pass()
        if warm >= 0.02:
            break
    return statistics.median(timed_pass() / copies for _ in range(samples))


def time_convs_cuda(samples):
    """{(pass, shape): ms} of PyTorch's cnn1 convolutions, batch 100."""
    results = {}
    backward = getattr(torch.ops.aten, "convolution_backward", None)
    for name, cin, cout, size in CNN1_CONVS:
        n, out = 100, size - 2
        x_shape, w_shape, y_shape = (n, cin, size, size), (cout, cin, 3, 3), (n, cout, out, out)

        def operands():
            return (torch.rand(x_shape, device="cuda"), torch.rand(w_shape, device="cuda"),
                    torch.rand(cout, device="cuda"), torch.rand(y_shape, device="cuda"))

        set_bytes = 4 * (n * cin * size * size + cout * cin * 9 + cout + n * cout * out * out)
        results[("conv2d_forward", name)] = 1e3 * time_rotated(
            operands, set_bytes, lambda x, w, b, dy: F.conv2d(x, w, b), samples)
        if backward is None:
            continue
        conv_args = ([cout], [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
        try:
            results[("conv2d_backward_data", name)] = 1e3 * time_rotated(
                operands, set_bytes, lambda x, w, b, dy: backward(dy, x, w, *conv_args, [True, False, False]),
                samples)
            results[("conv2d_backward_filter", name)] = 1e3 * time_rotated(
                operands, set_bytes, lambda x, w, b, dy: backward(dy, x, w, *conv_args, [False, True, True]),
                samples)
        except (RuntimeError, TypeError) as error:  # the operator's schema differs in this torch
            print(f"pytorch conv backward not timed: {first_line(error)}", flush=True)
            backward = None
    return results


def run_benchmark_json(path, args):
    """Runs a Google Benchmark binary with JSON output; None (and its line printed) when it measured nothing."""
    command = [path, "--benchmark_format=json"] + args
    print(f"running {' '.join(shlex.quote(a) for a in command)}", flush=True)
    try:
        result = subprocess.run(command, check=True, stdout=subprocess.PIPE, universal_newlines=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"{path}: failed: {first_line(error)}")
        return None
    try:
        report = json.loads(result.stdout)
    except ValueError:
        print(f"{path}: {result.stdout.strip()}")
        return None
    runs = []
    for bench in report.get("benchmarks", []):
        if bench.get("run_type", "iteration") != "iteration":
            continue
        if bench.get("error_occurred"):
            print(f"{bench['name']}: skipped: {bench.get('error_message', '')}")
            continue
        runs.append(bench)
    return runs


def name_parts(name):
    """A Google Benchmark name's parts without the settings it appends ("iterations:1", "manual_time")."""
    settings = ("iterations:", "repeats:", "threads:", "min_time:", "min_warmup_time:")
    return [p for p in name.split("/") if not p.startswith(settings) and p not in ("manual_time", "real_time")]


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def figure(value, digits=1):
    return f"{value:.{digits}f}" if value is not None else "-"


def print_table(title, header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def main_cuda(args):
    if not torch.cuda.is_available():
        print(f"PyTorch {torch.__version__} has no usable CUDA here: nothing to time on the GPU")
        return
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 against Nebula's fp32
    torch.backends.cudnn.allow_tf32 = False
    steps = args.steps or 50
    warmup = 10 if args.warmup is None else args.warmup
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            sys.exit(f"--models: unknown model '{m}' (known: {', '.join(MODELS)})")
    print(f"GPU: {torch.cuda.get_device_name(0)}; PyTorch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {torch.backends.cudnn.version()}; batch {args.batch}, median of {steps} steps after "
          f"{warmup} warmup; cudnn.benchmark on, TF32 off", flush=True)

    pytorch = {}  # (model, mode) -> images/s
    modes = ["eager"] + ([] if args.no_compile else ["compile"])
    for m in models:
        for mode in modes:
            if mode == "compile" and not hasattr(torch, "compile"):
                print(f"pytorch {m} compile: not timed: torch {torch.__version__} has no torch.compile", flush=True)
                continue
            try:
                images = time_training_cuda(m, args.batch, mode == "compile", warmup, steps)
            except Exception as error:  # torch.compile fails in many ways (no triton, no compiler, ...)
                print(f"pytorch {m} {mode}: failed: {first_line(error)}", flush=True)
                continue
            pytorch[(m, mode)] = images
            print(f"pytorch {m} {mode}: {1e3 * args.batch / images:.2f} ms, {images:.1f} images/s", flush=True)

    nebula = {}  # (model, variant) -> images/s
    if args.nebula_gpu:
        if args.batch != 100:
            print("note: bench_train's steps use batch 100", file=sys.stderr)
        for bench in run_benchmark_json(args.nebula_gpu, shlex.split(args.nebula_gpu_args)) or []:
            parts = name_parts(bench["name"])
            if len(parts) < 3 or parts[0] != "BM_train_step":
                continue
            images = bench.get("items_per_second")
            if images is None:
                images = 100 / (bench["real_time"] * TO_MS[bench.get("time_unit", "ns")] * 1e-3)
            nebula[(parts[1], "/".join(parts[2:]))] = images

    variants = list(dict.fromkeys(v for _, v in nebula))  # in bench_train's order
    header = ["model"] + [f"pytorch-{mode}" for mode in modes] + [f"nebula-{v}" for v in variants] + \
             [f"{v}/eager" for v in variants] + (["compile/eager"] if "compile" in modes else [])
    rows = []
    for m in sorted({k[0] for k in list(pytorch) + list(nebula)}, key=lambda k: (k not in MODELS, k)):
        eager = pytorch.get((m, "eager"))
        rows.append([m] + [figure(pytorch.get((m, mode))) for mode in modes] +
                    [figure(nebula.get((m, v))) for v in variants] +
                    [ratio(nebula.get((m, v)), eager) for v in variants] +
                    ([ratio(pytorch.get((m, "compile")), eager)] if "compile" in modes else []))
    print_table(f"training step, batch {args.batch}: images/s (ratios > 1: faster than PyTorch eager)", header, rows)

    if args.no_ops and not args.kernels:
        return
    torch_ops = {} if args.no_ops else time_convs_cuda(args.samples)
    kernels = {}  # (op, shape) -> {implementation: bench}
    if args.kernels:
        for bench in run_benchmark_json(args.kernels, [f"--benchmark_filter={args.kernels_filter}",
                                                       f"--samples={args.samples}"]) or []:
            parts = name_parts(bench["name"])
            if len(parts) == 3 and parts[0].startswith("BM_"):
                kernels.setdefault((parts[0][3:], parts[2]), {})[parts[1]] = bench
    rows = []
    for key in list(kernels) + [k for k in torch_ops if k not in kernels]:
        by_impl = kernels.get(key, {})

        def ms(impl):
            bench = by_impl.get(impl)
            return bench["real_time"] * TO_MS[bench.get("time_unit", "ns")] if bench else None

        native = ms("native")
        library = ms("cudnn") or ms("cublas")
        torch_ms = torch_ops.get(key)
        share = by_impl.get("native", {}).get("peak_share")
        rows.append([key[0], key[1], figure(native, 3), figure(library, 3), figure(torch_ms, 3),
                     ratio(library, native), ratio(torch_ms, native),
                     f"{100 * share:.1f}%" if share is not None else "-"])
    print_table("per op, batch 100: ms per call (speed ratios > 1: native faster; peak: native's share of the "
                "card's peak)",
                ["op", "shape", "native", "library", "pytorch", "native/library", "native/pytorch", "native peak"],
                rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--warmup", type=int, help="untimed steps first (default: 3 on the CPU, 10 on the GPU)")
    parser.add_argument("--steps", type=int, help="timed steps; the median is reported (default: 10 CPU, 50 GPU)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU: PyTorch's threads")
    parser.add_argument("--models", default="cnn1,cnn3", help="GPU: the models to time, comma separated")
    parser.add_argument("--no-compile", action="store_true", help="GPU: skip torch.compile")
    parser.add_argument("--no-ops", action="store_true", help="GPU: skip PyTorch's per-op convolution timings")
    parser.add_argument("--samples", type=int, default=21, help="GPU per-op timings: samples; the median is reported")
    parser.add_argument("--nebula-gpu", metavar="PATH", help="GPU: bench_train to run for Nebula's figures")
    parser.add_argument("--nebula-gpu-args", default="", metavar="ARGS",
                        help="GPU: further arguments for bench_train, one string (--nebula-gpu-args=--steps=50)")
    parser.add_argument("--kernels", metavar="PATH", help="GPU: bench_kernels to run beside PyTorch's per-op timings")
    parser.add_argument("--kernels-filter", default="BM_conv2d_.*/cnn1_", metavar="REGEX",
                        help="GPU: bench_kernels' --benchmark_filter (default: cnn1's convolutions)")
    parser.add_argument("--nebula", metavar="PATH", help="CPU: bench_cpu to run for Nebula's figure")
    parser.add_argument("--nebula-args", nargs=argparse.REMAINDER, default=[],
                        help="CPU: further arguments for bench_cpu (last on the line)")
    args = parser.parse_args()
    if args.device == "cuda":
        main_cuda(args)
    else:
        main_cpu(args)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The loader's pipeline in Python with PIL, for comparison with bench_loader.

Per image: read the JPEG, decode it with PIL's draft mode (libjpeg's DCT
scaling, the same reduction Nebula picks), apply the centre crop, resize and a
Keras-style random affine as ONE Image.transform (bilinear), flip, convert to a
float32 CHW array and rescale by 1/255 -- what bench_loader's decode_augment
and loader benchmarks do. (PIL fills outside the image with black rather than
Keras's 'nearest'; that does not change the cost.)

Per-core figures are in CPU time, as bench_loader's, so other processes on the
machine barely move them; the multi-process figure is in wall time.

Run with Debian's python3-pil:
  /usr/bin/python3 benchmarks/compare_loader.py [--images DIR] [--count N] [--processes 1 2]
"""
import argparse
import math
import multiprocessing
import os
import random
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_IMAGES = os.path.join(HERE, "..", "..", "shared", "data", "galaxyzoo", "images")


def keras_params(rng, n):
    theta = rng.uniform(-40, 40)
    tx = rng.uniform(-0.2, 0.2) * n
    ty = rng.uniform(-0.2, 0.2) * n
    shear = rng.uniform(-0.2, 0.2)
    zx, zy = rng.uniform(0.8, 1.2), rng.uniform(0.8, 1.2)
    flip = rng.random() < 0.5
    return theta, tx, ty, shear, zx, zy, flip


def keras_matrix(theta, tx, ty, shear, zx, zy, n):
    """Keras's centred R.T.S.Z on (row, col), output -> input, as a 3x3 array."""
    t, s = math.radians(theta), math.radians(shear)
    r = np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])
    sh = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    sm = np.array([[1, -math.sin(s), 0], [0, math.cos(s), 0], [0, 0, 1]])
    z = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    m = r @ sh @ sm @ z
    o = n / 2 - 0.5
    return np.array([[1, 0, o], [0, 1, o], [0, 0, 1]]) @ m @ np.array([[1, 0, -o], [0, 1, -o], [0, 0, 1]])


def process(path, rng, crop, size, augment=True):
    with open(path, "rb") as f:
        data = f.read()
    import io

    im = Image.open(io.BytesIO(data))
    w0, h0 = im.size
    region = crop if crop else w0
    # draft() picks the largest DCT reduction that keeps the image at least this big.
    scale = 1
    for k in (2, 4, 8):
        if region / k >= size:
            scale = k
    im.draft("RGB", (math.ceil(w0 / scale), math.ceil(h0 / scale)))
    im = im.convert("RGB")
    k = w0 / im.size[0]
    # Output (row, col) -> n x n (u, v) -> source -> decoded; PIL wants (x, y) = (col, row)
    # and samples pixel centres at +0.5.
    m = keras_matrix(*keras_params(rng, size)[:6], size) if augment else np.eye(3)
    off = (w0 - region) / 2
    s = region / (size * k)
    b = 0.5 * s + off / k - 0.5
    to_decoded = np.array([[s, 0, b], [0, s, b], [0, 0, 1]]) @ m
    # Swap row/col into PIL's (x, y) and shift for its pixel-centre convention.
    a = to_decoded
    coeffs = (a[1, 1], a[1, 0], a[1, 2] + 0.5 - 0.5 * (a[1, 0] + a[1, 1]),
              a[0, 1], a[0, 0], a[0, 2] + 0.5 - 0.5 * (a[0, 0] + a[0, 1]))
    out = im.transform((size, size), Image.AFFINE, coeffs, resample=Image.BILINEAR)
    if augment and rng.random() < 0.5:
        out = out.transpose(Image.FLIP_LEFT_RIGHT)
    return (np.asarray(out, dtype=np.float32) * (1.0 / 255.0)).transpose(2, 0, 1).copy()


def run(args):
    """Processes the paths; returns (images, CPU seconds of this process)."""
    paths, crop, size, seed = args
    rng = random.Random(seed)
    t0 = time.process_time()
    for p in paths:
        process(p, rng, crop, size)
    return len(paths), time.process_time() - t0


def decode_only(paths, scale):
    t0 = time.process_time()
    for p in paths:
        im = Image.open(p)
        if scale > 1:
            im.draft("RGB", (im.size[0] // scale, im.size[1] // scale))
        im.load()
    return len(paths) / (time.process_time() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=DEFAULT_IMAGES, help="folder of JPEGs")
    ap.add_argument("--count", type=int, default=2000, help="images per measurement")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="worker process counts")
    args = ap.parse_args()
    if not os.path.isdir(args.images):
        sys.exit(f"compare_loader: no image folder {args.images} (give --images DIR)")
    paths = sorted(os.path.join(args.images, f) for f in os.listdir(args.images) if f.lower().endswith(".jpg"))
    paths = paths[: args.count]
    for p in paths:  # warm the page cache
        with open(p, "rb") as f:
            f.read()
    print(f"compare_loader: PIL {Image.__version__}, numpy {np.__version__}, {len(paths)} images from {args.images}")
    for scale in (1, 2, 4, 8):
        print(f"PIL decode 1/{scale}: {decode_only(paths, scale):.0f} img/s per core")
    results = {}
    for crop, size in ((250, 70), (0, 100)):
        n, seconds = run((paths, crop, size, 1))
        rate = n / seconds
        results[(crop, size)] = rate
        print(f"PIL decode+augment to {size}x{size} (crop {crop or 'none'}): {rate:.0f} img/s per core")
    for procs in args.processes:
        if procs == 1:
            continue
        chunks = [(paths[i::procs], 250, 70, i) for i in range(procs)]
        t0 = time.perf_counter()
        with multiprocessing.Pool(procs) as pool:
            done = sum(n for n, _ in pool.map(run, chunks))
        print(f"PIL decode+augment to 70x70 (crop 250), {procs} processes: {done / (time.perf_counter() - t0):.0f} img/s (wall)")
    print(f"compare_loader: PIL decode+augment to 70x70 (crop 250): {results[(250, 70)]:.0f} img/s per core (in CPU time)")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Trains the study's CNNs in PyTorch on exactly the images a Nebula run used,
so the two test RMSEs can be compared on the same split.

    build/apps/train_cnn --images I --labels L --model cnn2 --split 4000/500/500 --out out/cnn2
    /usr/bin/python3 benchmarks/train_pytorch.py --images I --labels L --split-csv out/cnn2/split.csv --model cnn2

The pipeline is the study's Keras one, written out: centre crop (cnn2, cnn3: 250
of 424), resize to the input size (PIL bilinear), then, for training only,
keras-preprocessing's random_transform on the resized image: theta ~ U(-40, 40)
degrees, tx ~ U(-0.2, 0.2) * rows, ty ~ U(-0.2, 0.2) * cols, shear ~ U(-0.2, 0.2)
degrees, zx, zy ~ U(0.8, 1.2), the matrix R.T.S.Z centred on n/2 - 0.5 mapping
output to input pixels, bilinear with 'nearest' fill, a horizontal flip with
p = 0.5, and rescale 1/255. Glorot-uniform weights, zero biases, MSE, Adamax
(lr 1e-3, beta 0.9/0.999, eps 1e-7; PyTorch's rule puts eps inside the max),
batch 100. The test set is scored with the weights that did best on validation,
as train_cnn does. Prints one JSON line of results.
"""
import argparse
import csv
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

MODELS = {  # filters per conv block, dense head, input size, crop
    "cnn1": ((32, 64, 128, 128), (512,), 100, 0),
    "cnn2": ((32, 64, 128, 128), (512,), 70, 250),
    "cnn3": ((32, 96, 128, 128), (96, 64), 70, 250),
}


def build(name, outputs):
    filters, dense, size, _ = MODELS[name]
    layers, cin, side = [], 3, size
    for f in filters:
        layers += [nn.Conv2d(cin, f, 3), nn.ReLU(), nn.MaxPool2d(2)]
        cin, side = f, (side - 2) // 2
    layers += [nn.Flatten()]
    features = cin * side * side
    for units in dense:  # the study: dropout before each hidden dense layer
        layers += [nn.Dropout(0.5), nn.Linear(features, units), nn.ReLU()]
        features = units
    layers += [nn.Linear(features, outputs), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def load_images(folder, ids, size, crop):
    out = np.empty((len(ids), size, size, 3), np.uint8)
    for i, gid in enumerate(ids):
        img = Image.open(os.path.join(folder, f"{gid}.jpg")).convert("RGB")
        if crop:
            w, h = img.size
            left, top = (w - crop) // 2, (h - crop) // 2
            img = img.crop((left, top, left + crop, top + crop))
        out[i] = np.asarray(img.resize((size, size), Image.BILINEAR))
    return out


def keras_transform(image, rng):
    """keras-preprocessing's random_transform + apply_affine_transform, in numpy."""
    n_rows, n_cols = image.shape[:2]
    theta = math.radians(rng.uniform(-40, 40))
    tx = rng.uniform(-0.2, 0.2) * n_rows
    ty = rng.uniform(-0.2, 0.2) * n_cols
    shear = math.radians(rng.uniform(-0.2, 0.2))
    zx, zy = rng.uniform(0.8, 1.2, 2)
    rotation = np.array([[math.cos(theta), -math.sin(theta), 0], [math.sin(theta), math.cos(theta), 0], [0, 0, 1]])
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    shear_m = np.array([[1, -math.sin(shear), 0], [0, math.cos(shear), 0], [0, 0, 1]])
    zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    m = rotation @ shift @ shear_m @ zoom
    o_r, o_c = n_rows / 2 - 0.5, n_cols / 2 - 0.5
    rows, cols = np.meshgrid(np.arange(n_rows), np.arange(n_cols), indexing="ij")
    r = m[0, 0] * (rows - o_r) + m[0, 1] * (cols - o_c) + m[0, 2] + o_r
    c = m[1, 0] * (rows - o_r) + m[1, 1] * (cols - o_c) + m[1, 2] + o_c
    r = np.clip(r, 0, n_rows - 1)  # fill mode 'nearest'
    c = np.clip(c, 0, n_cols - 1)
    r0, c0 = np.floor(r).astype(int), np.floor(c).astype(int)
    r1, c1 = np.minimum(r0 + 1, n_rows - 1), np.minimum(c0 + 1, n_cols - 1)
    fr, fc = (r - r0)[..., None], (c - c0)[..., None]
    img = image.astype(np.float32)
    out = (img[r0, c0] * (1 - fr) * (1 - fc) + img[r0, c1] * (1 - fr) * fc + img[r1, c0] * fr * (1 - fc)
           + img[r1, c1] * fr * fc)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    return out


def to_tensor(batch):
    return torch.from_numpy(np.ascontiguousarray(np.stack(batch).transpose(0, 3, 1, 2) / 255.0, np.float32))


def evaluate(model, images, labels, batch, device):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = to_tensor([im for im in images[i:i + batch]]).to(device)
            total += float(((model(x) - labels[i:i + batch].to(device)) ** 2).sum())
    return math.sqrt(total / labels.numel())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--split-csv", required=True, help="split.csv from a train_cnn run")
    p.add_argument("--model", default="cnn2", choices=sorted(MODELS))
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", default="cpu", help="cpu or cuda (the model; augmentation stays on the CPU)")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    with open(args.labels) as f:
        reader = csv.reader(f)
        header = next(reader)
        table = {int(row[0]): [float(v) for v in row[1:]] for row in reader}
    parts = {"train": [], "validation": [], "test": []}
    with open(args.split_csv) as f:
        for row in csv.DictReader(f):
            parts[row["part"]].append(int(row["GalaxyID"]))
    _, _, size, crop = MODELS[args.model]
    data = {k: (load_images(args.images, ids, size, crop), torch.tensor([table[i] for i in ids]))
            for k, ids in parts.items()}
    model = build(args.model, len(header) - 1).to(args.device)
    optimizer = torch.optim.Adamax(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

    train_images, train_labels = data["train"]
    best, best_state, seconds = float("inf"), None, 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.time()
        order = rng.permutation(len(train_images))
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            x = to_tensor([keras_transform(train_images[j], rng) for j in idx]).to(args.device)
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.mse_loss(model(x), train_labels[idx].to(args.device))
            loss.backward()
            optimizer.step()
        seconds += time.time() - start
        val = evaluate(model, *data["validation"], args.batch, args.device)
        print(f"epoch {epoch}/{args.epochs}  validation RMSE {val:.5f}  ({time.time() - start:.1f}s)", flush=True)
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    test = evaluate(model, *data["test"], args.batch, args.device)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "model": args.model, "device": args.device,
                      "seed": args.seed, "epochs": args.epochs,
                      "best_val_rmse": best, "test_rmse": test, "seconds": seconds,
                      "images_per_second": len(train_images) * args.epochs / seconds}))


if __name__ == "__main__":
    main()

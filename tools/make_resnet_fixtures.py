#!/usr/bin/python3
"""Writes the ResNet-18 PyTorch-parity fixtures into OUT_DIR (the tests call it
with a folder in the build tree; the files are too big to commit):

  resnet18.pth           torch.save(state_dict) of a torchvision resnet18 with
                         random weights and non-trivial batch-norm statistics
  resnet18.safetensors   the same tensors, written by hand (the safetensors
                         package may be absent); num_batches_tracked as I64
  resnet18_io.safetensors
      inputs        [3, 3, 224, 224]  random normalised inputs
      logits        [3, 1000]         the model's eval-mode logits for them
      image_inputs  [3, 3, 224, 224]  the images below, preprocessed as
                                      classify does (an image already 224x224
                                      as it is; others Resize(256) +
                                      CenterCrop(224) on the PIL image), then
                                      ToTensor and ImageNet's Normalize
      image_logits  [3, 1000]         the model's logits for those
  images/square224.png, images/wide300x260.png, images/photo320x240.jpg
  resnet50.pth           a torchvision resnet50, randomised the same way
  resnet50_io.safetensors
      inputs [2, 3, 64, 64], logits [2, 1000]   (small, to keep the test quick)

Deterministic (torch.manual_seed). Run with the Python that has torch:
  /usr/bin/python3 tools/make_resnet_fixtures.py OUT_DIR

With --keys FILE it writes instead the small committed fixture
tests/fixtures/torchvision_resnet_keys.txt: every state_dict key of
torchvision's resnet18, resnet34 and resnet50 with its shape, one a line
("resnet50 layer1.0.conv1.weight 64,64,1,1"; num_batches_tracked left out),
so the architecture tests need no Python.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def safetensors_bytes(tensors):
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def random_model(name="resnet18"):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)
        model.fc.weight.mul_(4.0)  # logits of order one
        model.fc.bias.uniform_(-0.5, 0.5)
    return model.eval()


def smooth_image(h, w, seed):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, h // 16 + 2, w // 16 + 2, generator=g)
    fine = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)
    fine = fine + 0.08 * torch.randn(1, 3, h, w, generator=g)
    pixels = (fine.clamp(0, 1) * 255).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")


def preprocess(image):
    steps = [] if image.size == (224, 224) else [transforms.Resize(256), transforms.CenterCrop(224)]
    steps += [transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    return transforms.Compose(steps)(image)


def write_keys(path):
    lines = []
    for name in ("resnet18", "resnet34", "resnet50"):
        for key, t in getattr(torchvision.models, name)().state_dict().items():
            if not key.endswith("num_batches_tracked"):
                lines.append(f"{name} {key} {','.join(str(d) for d in t.shape)}\n")
    write_atomic(path, "".join(lines).encode())
    print(f"wrote {len(lines)} keys to {path}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--keys":
        write_keys(sys.argv[2])
        return
    if len(sys.argv) != 2:
        sys.exit("usage: make_resnet_fixtures.py OUT_DIR | --keys FILE")
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    model = random_model()
    state = model.state_dict()

    tmp = os.path.join(out, "resnet18.pth.tmp")
    torch.save(state, tmp)
    os.replace(tmp, os.path.join(out, "resnet18.pth"))
    write_atomic(os.path.join(out, "resnet18.safetensors"), safetensors_bytes(state))

    images = {
        "square224.png": smooth_image(224, 224, 1),
        "wide300x260.png": smooth_image(260, 300, 2),
        "photo320x240.jpg": smooth_image(240, 320, 3),
    }
    loaded = []
    for name, image in images.items():
        path = os.path.join(out, "images", name)
        if name.endswith(".jpg"):
            image.save(path + ".tmp", format="JPEG", quality=92)
        else:
            image.save(path + ".tmp", format="PNG")
        os.replace(path + ".tmp", path)
        loaded.append(Image.open(path).convert("RGB"))  # what classify reads: the decoded file

    torch.manual_seed(1)
    inputs = torch.randn(3, 3, 224, 224)
    image_inputs = torch.stack([preprocess(im) for im in loaded])
    with torch.no_grad():
        logits = model(inputs)
        image_logits = model(image_inputs)
    write_atomic(os.path.join(out, "resnet18_io.safetensors"),
                 safetensors_bytes({"inputs": inputs, "logits": logits,
                                    "image_inputs": image_inputs, "image_logits": image_logits}))

    model50 = random_model("resnet50")
    tmp = os.path.join(out, "resnet50.pth.tmp")
    torch.save(model50.state_dict(), tmp)
    os.replace(tmp, os.path.join(out, "resnet50.pth"))
    torch.manual_seed(2)
    inputs50 = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits50 = model50(inputs50)
    write_atomic(os.path.join(out, "resnet50_io.safetensors"),
                 safetensors_bytes({"inputs": inputs50, "logits": logits50}))
    print(f"wrote the ResNet fixtures to {out}")


if __name__ == "__main__":
    main()

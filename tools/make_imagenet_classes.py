#!/usr/bin/python3
"""Writes models/imagenet_classes.txt: the 1000 ImageNet class names in the
order of torchvision's classifiers' outputs, one a line, taken from
torchvision.models._meta._IMAGENET_CATEGORIES (torchvision 0.14). Run with the
Python that has torchvision: /usr/bin/python3 tools/make_imagenet_classes.py"""
import os
import sys

from torchvision.models._meta import _IMAGENET_CATEGORIES

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "imagenet_classes.txt")
if len(_IMAGENET_CATEGORIES) != 1000:
    sys.exit(f"expected 1000 categories, torchvision has {len(_IMAGENET_CATEGORIES)}")
for name in _IMAGENET_CATEGORIES:
    if "\n" in name or ")nebula" in name:
        sys.exit(f"unusable class name {name!r}")
tmp = out + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    f.write("".join(name + "\n" for name in _IMAGENET_CATEGORIES))
os.replace(tmp, out)
print(f"wrote {os.path.normpath(out)}")

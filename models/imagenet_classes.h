// The 1000 ImageNet class names in the order of torchvision's classifier
// outputs ("tench", "goldfish", ...), compiled in from models/imagenet_classes.txt
// (written by tools/make_imagenet_classes.py from torchvision's own list).
#pragma once
#include <string>
#include <vector>

namespace nebula {

const std::vector<std::string>& imagenet_classes();

}  // namespace nebula

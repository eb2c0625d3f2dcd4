#include "engine/sequential.h"

#include <iomanip>
#include <sstream>

#include "base/error.h"
#include "engine/layers.h"
#include "engine/ops.h"

namespace nebula {

namespace {
std::string child_prefix(const std::string& prefix, const std::string& name) {
  return name.empty() ? prefix : prefix + name + ".";
}
}  // namespace

Module& Sequential::add(ModulePtr module, std::string name) {
  if (name.empty()) name = std::to_string(children_.size());
  children_.emplace_back(std::move(name), std::move(module));
  return *children_.back().second;
}

Shape Sequential::output_shape(const Shape& input) const {
  Shape shape = input;
  for (const auto& [name, child] : children_) shape = child->output_shape(shape);
  return shape;
}

std::string Sequential::describe() const {
  if (!description_.empty()) return description_;
  return "Sequential(" + std::to_string(children_.size()) + " layers)";
}

void Sequential::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  for (auto& [name, child] : children_) child->collect_parameters(child_prefix(prefix, name), out);
}

void Sequential::collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) {
  for (auto& [name, child] : children_) child->collect_buffers(child_prefix(prefix, name), out);
}

void Sequential::visit(const std::function<void(Module&)>& f) {
  f(*this);
  for (auto& [name, child] : children_) child->visit(f);
}

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (size_t i = 0; i < children_.size(); ++i) {
    Module& child = *children_[i].second;
    // A Conv2d followed by a ReLU runs as one op: the GPU kernel applies the
    // ReLU as it writes its output, saving a pass over the activations.
    auto* conv = dynamic_cast<Conv2d*>(&child);
    if (conv && i + 1 < children_.size() && dynamic_cast<ReLU*>(children_[i + 1].second.get())) {
      y = conv->forward_relu(y);
      ++i;
      continue;
    }
    y = child(y);
  }
  return y;
}

std::string Sequential::summary(const Shape& input) const {
  std::ostringstream out;
  Shape shape = input;
  out << std::left << std::setw(6) << "#" << std::setw(48) << "layer"
      << "output\n";
  out << std::setw(6) << "" << std::setw(48) << "input" << to_string(shape) << "\n";
  for (const auto& [name, child] : children_) {
    shape = child->output_shape(shape);
    out << std::setw(6) << name << std::setw(48) << child->describe() << to_string(shape) << "\n";
  }
  return out.str();
}

Residual::Residual(ModulePtr body, ModulePtr shortcut, std::string body_name, std::string shortcut_name,
                   bool relu_after)
    : body_(std::move(body)),
      shortcut_(std::move(shortcut)),
      body_prefix_(std::move(body_name)),
      shortcut_prefix_(std::move(shortcut_name)),
      relu_after_(relu_after) {
  NEBULA_CHECK(body_ != nullptr, "Residual: the body is missing");
}

Shape Residual::output_shape(const Shape& input) const {
  Shape main = body_->output_shape(input);
  Shape side = shortcut_ ? shortcut_->output_shape(input) : input;
  NEBULA_CHECK(main == side, "Residual: the body gives ", to_string(main), " but the shortcut gives ", to_string(side),
               " for input ", to_string(input));
  return main;
}

std::string Residual::describe() const {
  std::string text = "Residual(" + body_->describe();
  text += shortcut_ ? " + " + shortcut_->describe() : " + identity";
  return text + (relu_after_ ? ", relu)" : ")");
}

void Residual::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  body_->collect_parameters(child_prefix(prefix, body_prefix_), out);
  if (shortcut_) shortcut_->collect_parameters(child_prefix(prefix, shortcut_prefix_), out);
}

void Residual::collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) {
  body_->collect_buffers(child_prefix(prefix, body_prefix_), out);
  if (shortcut_) shortcut_->collect_buffers(child_prefix(prefix, shortcut_prefix_), out);
}

void Residual::visit(const std::function<void(Module&)>& f) {
  f(*this);
  body_->visit(f);
  if (shortcut_) shortcut_->visit(f);
}

Variable Residual::forward(const Variable& x) {
  Variable main = (*body_)(x);
  Variable side = shortcut_ ? (*shortcut_)(x) : x;
  Variable sum = add(main, side);
  return relu_after_ ? relu(sum) : sum;
}

}  // namespace nebula

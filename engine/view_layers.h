// Rotation-invariant multi-view layers (Dieleman, Willett & Dambre 2015):
// Views cuts each image into views stacked into the batch, so the layers after
// it run every view through one shared stack; MergeViews joins each image's
// views again, before the dense head.
#pragma once
#include <memory>

#include "engine/module.h"
#include "engine/view_tables.h"
#include "kernels/view_merge.h"

namespace nebula {

class Views : public Module {
 public:
  // Views of `kind` of in_size x in_size images, each out_size x out_size.
  Views(ViewKind kind, int in_size, int out_size);
  const char* kind() const override { return "Views"; }
  Shape output_shape(const Shape& input) const override;  // [N, C, S, S] -> [V N, C, s, s]
  std::string describe() const override;
  int count() const { return tables_->table().views; }

 protected:
  Variable forward(const Variable& x) override;

 private:
  std::shared_ptr<ViewTables> tables_;
};

class MergeViews : public Module {
 public:
  MergeViews(int views, ViewMerge merge);
  const char* kind() const override { return "MergeViews"; }
  Shape output_shape(const Shape& input) const override;  // [V N, F] -> [N, V F] or [N, F]
  std::string describe() const override;

 protected:
  Variable forward(const Variable& x) override;

 private:
  int views_;
  ViewMerge merge_;
};

}  // namespace nebula

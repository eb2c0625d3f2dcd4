#include "engine/view_layers.h"

#include "base/error.h"
#include "engine/ops.h"

namespace nebula {

Views::Views(ViewKind kind, int in_size, int out_size)
    : tables_(std::make_shared<ViewTables>(make_view_table(kind, in_size, out_size))) {}

Shape Views::output_shape(const Shape& input) const {
  const ViewTable& t = tables_->table();
  NEBULA_CHECK(input.size() == 4 && input[2] == t.in_size && input[3] == t.in_size, "Views: input ",
               to_string(input), " is not [N, C, ", t.in_size, ", ", t.in_size, "]");
  return {t.views * input[0], input[1], t.out_size, t.out_size};
}

std::string Views::describe() const {
  const ViewTable& t = tables_->table();
  return detail::concat("Views(", t.views, " ", view_kind_name(t.kind), ", ", t.in_size, " -> ", t.out_size, ")");
}

Variable Views::forward(const Variable& x) { return views(x, tables_); }

MergeViews::MergeViews(int views, ViewMerge merge) : views_(views), merge_(merge) {
  NEBULA_CHECK(views >= 1, "MergeViews: views must be at least 1, got ", views);
}

Shape MergeViews::output_shape(const Shape& input) const {
  NEBULA_CHECK(input.size() == 2 && input[0] % views_ == 0, "MergeViews: input ", to_string(input),
               " is not [", views_, " x N, features]");
  return {input[0] / views_, merge_ == ViewMerge::Concat ? views_ * input[1] : input[1]};
}

std::string MergeViews::describe() const {
  return detail::concat("MergeViews(", views_, ", ", merge_ == ViewMerge::Concat ? "concat" : "mean", ")");
}

Variable MergeViews::forward(const Variable& x) { return merge_views(x, views_, merge_); }

}  // namespace nebula

// The decision-tree output on the CPU: rows split over threads in fixed ranges.
#include "kernels/galaxy_tree_output.h"

#include "base/error.h"
#include "kernels/cpu/parallel.h"

namespace nebula {

void validate(const GalaxyTreeLayout& t) {
  NEBULA_CHECK(t.columns > 0 && t.columns <= kGalaxyTreeMaxColumns, "galaxy tree: ", t.columns, " columns (1 to ",
               kGalaxyTreeMaxColumns, " allowed)");
  NEBULA_CHECK(t.questions > 0 && t.questions <= kGalaxyTreeMaxQuestions, "galaxy tree: ", t.questions,
               " questions (1 to ", kGalaxyTreeMaxQuestions, " allowed)");
  int answers[kGalaxyTreeMaxQuestions] = {};
  for (int j = 0; j < t.columns; ++j) {
    const int q = t.question_of[j];
    NEBULA_CHECK(q >= 0 && q < t.questions, "galaxy tree: column ", j, " belongs to no question");
    ++answers[q];
  }
  for (int q = 0; q < t.questions; ++q) {
    NEBULA_CHECK(answers[q] > 0, "galaxy tree: question ", q, " has no answers");
    const int parent = t.parent[q];
    NEBULA_CHECK(parent < t.columns, "galaxy tree: question ", q, "'s parent column ", parent, " is out of range");
    NEBULA_CHECK(parent < 0 || t.question_of[parent] < q, "galaxy tree: question ", q,
                 " comes before the question of its parent answer");
  }
}

namespace ref {

namespace {
constexpr int64_t kRowGrain = 64;
}

template <typename T>
void galaxy_tree_forward(const GalaxyTreeLayout& t, int64_t rows, const T* x, T* y) {
  const int64_t c = t.columns;
  cpu::parallel_for(rows, kRowGrain, [=](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) galaxy_tree_row_forward(t, x + r * c, y + r * c);
  });
}

template <typename T>
void galaxy_tree_backward(const GalaxyTreeLayout& t, int64_t rows, const T* x, const T* y, const T* dy, T* dx) {
  const int64_t c = t.columns;
  cpu::parallel_for(rows, kRowGrain, [=](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) galaxy_tree_row_backward(t, x + r * c, y + r * c, dy + r * c, dx + r * c);
  });
}

template void galaxy_tree_forward<float>(const GalaxyTreeLayout&, int64_t, const float*, float*);
template void galaxy_tree_forward<double>(const GalaxyTreeLayout&, int64_t, const double*, double*);
template void galaxy_tree_backward<float>(const GalaxyTreeLayout&, int64_t, const float*, const float*, const float*,
                                          float*);
template void galaxy_tree_backward<double>(const GalaxyTreeLayout&, int64_t, const double*, const double*,
                                           const double*, double*);

}  // namespace ref
}  // namespace nebula

// What every harness shares. A reader may refuse an input by throwing
// nebula::Error; anything else that escapes (std::bad_alloc included: the
// readers bound their memory) reaches libFuzzer as an uncaught exception, a
// finding. FUZZ_EXPECT aborts on a broken promise about an accepted input.
#pragma once
#include <cstdio>
#include <cstdlib>

#include "engine/tensor.h"

#define FUZZ_EXPECT(cond)                                                                    \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: accepted input breaks: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

// A tensor a reader returns is on the CPU and every one of its values can be
// read (copied out): ASan reports it if the storage is shorter than the shape.
inline void touch(const nebula::Tensor& t) {
  FUZZ_EXPECT(t.defined() && t.device() == nebula::Device::CPU);
  volatile float sum = 0;
  for (float v : t.to_vector()) sum = sum + v;
}

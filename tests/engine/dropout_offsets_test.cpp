// The dropout offset arithmetic eager steps and CUDA-graph replays share: a
// replay shifts the offsets it baked at capture by the calls made since, so
// eager steps between replays (a partial batch, a resumed run) never make a
// replay reuse a window an eager step drew.
#include <gtest/gtest.h>

#include <set>

#include "engine/layers.h"

namespace nebula {
namespace {

TEST(DropoutOffsets, EachCallOwnsItsOwnWindow) {
  EXPECT_EQ(dropout_call_offset(0), 0u);
  EXPECT_EQ(dropout_call_offset(1), uint64_t(1) << 32);
  EXPECT_EQ(dropout_call_offset(7), uint64_t(7) << 32);
}

// Batches 8, 8, 3, 8, 8: warm-up (eager), capture (nothing runs), replay, an
// eager partial batch, replay, replay. Every call must draw the offset an
// all-eager run draws for that call, and no two calls one window.
TEST(DropoutOffsets, ReplaysAfterAnEagerStepDrawWhatAnEagerRunDraws) {
  const uint64_t captured_call = 1;  // the warm-up step made call 0
  const uint64_t captured_offset = dropout_call_offset(captured_call);
  uint64_t calls = 1;
  std::set<uint64_t> drawn{dropout_call_offset(0)};
  const bool replayed[] = {true, false, true, true};
  for (bool replay : replayed) {
    const uint64_t offset =
        replay ? captured_offset + dropout_replay_shift(calls, captured_call) : dropout_call_offset(calls);
    EXPECT_EQ(offset, dropout_call_offset(calls)) << "call " << calls;
    EXPECT_TRUE(drawn.insert(offset).second) << "call " << calls << " reuses a window";
    ++calls;
  }
  EXPECT_EQ(calls, 5u);
}

TEST(DropoutOffsets, AResumedRunContinuesTheStream) {
  // A checkpoint restores calls = 40; the graph is captured at call 41.
  EXPECT_EQ(dropout_call_offset(41) + dropout_replay_shift(45, 41), dropout_call_offset(45));
  EXPECT_EQ(dropout_replay_shift(41, 41), 0u);
}

}  // namespace
}  // namespace nebula

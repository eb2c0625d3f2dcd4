#include "engine/training_step.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/layers.h"
#include "engine/ops.h"
#include "kernels/cuda/allocator.h"
#include "kernels/cuda/counter.h"
#include "kernels/cuda/runtime.h"

namespace nebula {

StepResult training_step(Module& net, Optimizer& optimizer, const Tensor& x, const Tensor& y) {
  optimizer.zero_grad();
  Variable prediction = net(Variable(x));
  Variable loss = mse_loss(prediction, Variable(y));
  backward(loss);
  optimizer.step();
  return {loss.value(), prediction.value()};
}

// What a capture leaves: the executable graph, the static inputs it reads, the
// static outputs it writes, and the device counter that moves its dropout
// stream. The memory its kernels touch belongs to a private pool of the
// allocator until the graph is gone.
struct GraphedTrainingStep::Graph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  int pool = 0;
  Tensor x, y;
  StepResult outputs;
  uint64_t* dropout_counter = nullptr;
  std::vector<uint64_t> captured_calls;  // each Dropout's calls when the graph was captured
  std::vector<bool> trainable;           // which parameters trained (trainable_parameters)
  uint64_t replays = 0;

  ~Graph() {
    cudaStreamSynchronize(gpu::stream());  // replays still queued read this memory
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
    if (pool) gpu::release_graph_pool(pool);
    if (dropout_counter) gpu::device_release(dropout_counter, sizeof(uint64_t));
  }
};

namespace {
bool sync_check() {
  static const bool enabled = [] {
    const char* value = std::getenv("NEBULA_SYNC_CHECK");
    return value && std::string(value) == "1";
  }();
  return enabled;
}

// While it lives, the kernels' memory comes from a fresh private pool of the
// allocator and Dropout offsets are read from the graph's device counter;
// however the capture ends (a throw included), both are undone.
class CaptureScope {
 public:
  explicit CaptureScope(uint64_t* dropout_counter) : pool_(gpu::begin_graph_pool()) {
    dispatch::set_dropout_offset_counter(dropout_counter);
  }
  ~CaptureScope() {
    dispatch::set_dropout_offset_counter(nullptr);
    gpu::end_graph_pool();
  }
  CaptureScope(const CaptureScope&) = delete;
  CaptureScope& operator=(const CaptureScope&) = delete;
  int pool() const { return pool_; }

 private:
  int pool_;
};

}  // namespace

std::vector<bool> trainable_parameters(Optimizer& optimizer) {
  std::vector<bool> flags;
  for (const ParameterGroup& group : optimizer.groups())
    for (const NamedParameter& p : group.parameters) flags.push_back(p.variable.requires_grad());
  return flags;
}

GraphedTrainingStep::GraphedTrainingStep(Module& net, Optimizer& optimizer) : net_(net), optimizer_(optimizer) {
  // Out of GPU memory elsewhere (an eager partial batch, an evaluation), the
  // graph's private pool is the memory to give back: training goes on eagerly.
  pressure_handler_ = gpu::add_memory_pressure_handler([this] {
    if (!graph_ || replaying_) return false;
    graph_.reset();
    failed_ = true;
    std::fprintf(stderr, "out of GPU memory: the captured training step is dropped, training goes on without it\n");
    return true;
  });
}

GraphedTrainingStep::~GraphedTrainingStep() { gpu::remove_memory_pressure_handler(pressure_handler_); }

bool GraphedTrainingStep::captured() const { return graph_ != nullptr; }

StepResult GraphedTrainingStep::run(const Tensor& x, const Tensor& y) {
  if (x.device() != Device::CUDA || failed_) return training_step(net_, optimizer_, x, y);
  // Which parameters train is baked into the graph: a freeze or unfreeze since
  // the capture means capturing again (after a warm-up step of the new set).
  if (graph_ && graph_->trainable != trainable_parameters(optimizer_)) {
    graph_.reset();
    warmed_shape_ = Shape();
  }
  if (graph_) {
    if (x.shape() != graph_->x.shape() || y.shape() != graph_->y.shape()) return training_step(net_, optimizer_, x, y);
  } else if (x.shape() != warmed_shape_) {
    warmed_shape_ = x.shape();
    return training_step(net_, optimizer_, x, y);
  } else {
    try {
      capture(x, y);
    } catch (const std::exception& e) {  // any exception: capture() has already unwound
      failed_ = true;
      std::fprintf(stderr, "CUDA graph capture failed, training on without it: %s\n", e.what());
      return training_step(net_, optimizer_, x, y);
    }
  }
  return replay(x, y);
}

void GraphedTrainingStep::capture(const Tensor& x, const Tensor& y) {
  auto g = std::make_unique<Graph>();
  g->x = x.clone();
  g->y = y.clone();
  g->dropout_counter = static_cast<uint64_t*>(gpu::device_allocate(sizeof(uint64_t)));
  const std::vector<Dropout*> dropouts = dropout_layers(net_);
  std::vector<uint64_t> calls;
  for (Dropout* d : dropouts) calls.push_back(d->calls);
  g->captured_calls = calls;
  g->trainable = trainable_parameters(optimizer_);
  const int64_t steps = optimizer_.steps();
  optimizer_.before_capture();  // host writes of t and the learning rates happen here, not in the graph

  cudaError_t status = cudaSuccess;
  std::string failure;
  {
    CaptureScope scope(g->dropout_counter);
    g->pool = scope.pool();
    cudaStream_t stream = gpu::stream();
    status = cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed);
    if (status == cudaSuccess) {
      try {
        g->outputs = training_step(net_, optimizer_, g->x, g->y);
      } catch (const std::exception& e) {
        failure = e.what();
        clear_tape();  // a forward that threw leaves its closures behind
      } catch (...) {
        failure = "a non-standard exception was thrown inside the capture";
        clear_tape();
      }
      status = cudaStreamEndCapture(stream, &g->graph);
      if (status == cudaSuccess && failure.empty()) status = cudaGraphInstantiate(&g->exec, g->graph, 0);
    }
  }
  optimizer_.after_capture();
  if (status != cudaSuccess || !failure.empty()) {
    cudaGetLastError();
    // Nothing ran: undo what the capture counted.
    optimizer_.set_steps(steps);
    for (size_t i = 0; i < dropouts.size(); ++i) dropouts[i]->calls = calls[i];
    NEBULA_FAIL(failure.empty() ? std::string(cudaGetErrorString(status)) : failure);
  }
  // The capture counted one call per Dropout that did not run: each replay
  // counts its own (replay()), as an eager step does. The capture's optimizer
  // step is the one the first replay performs.
  for (size_t i = 0; i < dropouts.size(); ++i) dropouts[i]->calls = calls[i];
  graph_ = std::move(g);
}

StepResult GraphedTrainingStep::replay(const Tensor& x, const Tensor& y) {
  struct Replaying {  // the graph may not be dropped while it is being replayed
    bool& flag;
    explicit Replaying(bool& f) : flag(f) { flag = true; }
    ~Replaying() { flag = false; }
  } replaying(replaying_);
  Graph& g = *graph_;
  g.x.copy_from(x);
  g.y.copy_from(y);
  optimizer_.before_replay(g.replays > 0);
  // The baked offsets are those of the captured call: shift them to the call
  // the host counters say comes next, however many eager steps came between.
  const std::vector<Dropout*> dropouts = dropout_layers(net_);
  const uint64_t shift = dropouts.empty() ? 0 : dropout_replay_shift(dropouts[0]->calls, g.captured_calls[0]);
  for (size_t i = 0; i < dropouts.size(); ++i) {
    NEBULA_CHECK(dropout_replay_shift(dropouts[i]->calls, g.captured_calls[i]) == shift,
                 "CUDA graph: the Dropout layers' call counts advanced unevenly since the capture");
    ++dropouts[i]->calls;
  }
  cuda::set_counter(g.dropout_counter, shift);
  NEBULA_CUDA_CHECK(cudaGraphLaunch(g.exec, gpu::stream()), "replaying the captured training step");
  // NEBULA_SYNC_CHECK=1: an asynchronous fault inside the replay is reported here, not by whoever waits next.
  if (sync_check())
    NEBULA_CUDA_CHECK(cudaStreamSynchronize(gpu::stream()), "GPU fault inside a replay of the captured training step");
  ++g.replays;
  // The graph overwrites its outputs on the next replay: hand out copies.
  return {g.outputs.loss.clone(), g.outputs.prediction.clone()};
}

}  // namespace nebula

// Ctrl-C and SIGTERM as a request to stop: while a StopRequest lives, the first
// SIGINT or SIGTERM only sets a flag, which the training loop reads after each
// step (it then saves its place and exits 130); a second one kills as usual.
#pragma once

namespace nebula {

class StopRequest {
 public:
  StopRequest();   // installs the handlers
  ~StopRequest();  // restores the ones before
  StopRequest(const StopRequest&) = delete;
  StopRequest& operator=(const StopRequest&) = delete;

  bool requested() const;
  // The signal that asked (SIGINT or SIGTERM), 0 if none.
  int signal_number() const;
};

// The exit status of a run stopped by a signal and saved.
constexpr int kStoppedExitStatus = 130;

}  // namespace nebula

#include "train/stop_request.h"

#include <signal.h>

namespace nebula {

namespace {

volatile sig_atomic_t g_signal = 0;
struct sigaction g_previous_int, g_previous_term;

extern "C" void note_stop_signal(int signal_number) { g_signal = signal_number; }

}  // namespace

StopRequest::StopRequest() {
  g_signal = 0;
  struct sigaction action = {};
  action.sa_handler = note_stop_signal;
  sigemptyset(&action.sa_mask);
  // The second signal gets the default action (the process ends); interrupted system calls restart.
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

StopRequest::~StopRequest() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

bool StopRequest::requested() const { return g_signal != 0; }

int StopRequest::signal_number() const { return int(g_signal); }

}  // namespace nebula

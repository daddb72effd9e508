// A one-line progress bar on stderr, drawn only when stderr is a terminal (so logs and pipes stay
// clean). Shows counts only, never names or data. Not thread-safe.
#pragma once

#include <cstddef>
#include <string>

namespace sealsum::convert {

class Progress {
 public:
  explicit Progress(std::string label);  // enabled iff isatty(STDERR_FILENO)
  ~Progress();                           // ends the line if anything was drawn
  void update(size_t done, size_t total);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  int last_permille_ = -1;
};

}  // namespace sealsum::convert

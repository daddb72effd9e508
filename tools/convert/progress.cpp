// Terminal progress bar (see progress.h).
#include "tools/convert/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sealsum::convert {

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (drawn_) std::fputc('\n', stderr);
}

void Progress::update(size_t done, size_t total) {
  if (!enabled_ || total == 0) return;
  const int permille = int(done * 1000 / total);
  if (permille == last_permille_) return;
  last_permille_ = permille;
  constexpr int kWidth = 30;
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < permille * kWidth / 1000 ? '#' : '.';
  bar[kWidth] = '\0';
  std::fprintf(stderr, "\r%s [%s] %zu/%zu", label_.c_str(), bar, done, total);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace sealsum::convert

// `sealsum summarize --server URL ...`: summarize through an attested server (cmd_remote.cpp).
// run_summarize (cmd_summarize.cpp) hands argv here when it carries --server.
#pragma once

#include <string>
#include <vector>

namespace sealsum::cli {

int run_remote_summarize(const std::vector<std::string>& argv);

}  // namespace sealsum::cli

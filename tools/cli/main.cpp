// sealsum: one binary, many subcommands (see `sealsum --help`).
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/command.h"
#include "tools/cli/process_start.h"

static void print_help() {
  std::cout << "sealsum: confidential summarization with T5 and BART in a trusted execution environment\n\n"
               "usage: sealsum <command> [options]   (sealsum <command> --help for details)\n\ncommands:\n";
  for (const auto& [name, c] : sealsum::cli::commands()) {
    std::cout << "  " << name << std::string(name.size() < 14 ? 14 - name.size() : 1, ' ') << c.summary << "\n";
  }
}

int main(int argc, char** argv) {
  // First: non-dumpable and wipe-on-free for the commands that hold documents (process_start.h).
  if (int rc = sealsum::cli::protect_process(argc, argv); rc != 0) return rc;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  const auto& cmds = sealsum::cli::commands();
  auto it = cmds.find(argv[1]);
  if (it == cmds.end()) {
    std::cerr << "sealsum: unknown command '" << argv[1] << "' (see sealsum --help)\n";
    return 2;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    return it->second.run(args);
  } catch (const std::exception& e) {
    std::cerr << "sealsum " << argv[1] << ": internal error: " << e.what() << "\n";
    return 1;
  }
}

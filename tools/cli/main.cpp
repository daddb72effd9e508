// The main of every sealsum binary (tools/cli/CMakeLists.txt): `sealsum` (every command),
// `sealsum-serve` (the TEE: serve, batch) and `sealsum-kbs` (the broker). A binary's commands are the
// cmd_*.cpp files linked into it. SEALSUM_PROGRAM names the binary in messages; SEALSUM_SINGLE_COMMAND,
// when set, makes the binary that one command (`sealsum-kbs serve` = `sealsum kbs serve`), except that
// `version` stays the version command when the binary has one (`sealsum-kbs version`).
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/command.h"
#include "tools/cli/process_start.h"

#ifndef SEALSUM_PROGRAM
#define SEALSUM_PROGRAM "sealsum"
#endif

static void print_help() {
  std::cout << SEALSUM_PROGRAM ": confidential summarization with T5 and BART in a trusted execution environment\n\n"
               "usage: " SEALSUM_PROGRAM " <command> [options]   (" SEALSUM_PROGRAM " <command> --help for details)\n\n"
               "commands:\n";
  for (const auto& [name, c] : sealsum::cli::commands()) {
    std::cout << "  " << name << std::string(name.size() < 14 ? 14 - name.size() : 1, ' ') << c.summary << "\n";
  }
}

int main(int argc, char** argv) {
  // First: non-dumpable and wipe-on-free for the commands that hold documents (process_start.h).
  if (int rc = sealsum::cli::protect_process(argc, argv); rc != 0) return rc;
#ifdef SEALSUM_SINGLE_COMMAND
  {
    const auto& cmds = sealsum::cli::commands();
    if (argc == 2 && std::string(argv[1]) == "version" && cmds.count("version") != 0) {
      return cmds.at("version").run({});
    }
    auto it = cmds.find(SEALSUM_SINGLE_COMMAND);
    if (it == cmds.end()) {
      std::cerr << SEALSUM_PROGRAM ": built without its command '" SEALSUM_SINGLE_COMMAND "'\n";
      return 1;
    }
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
      return it->second.run(args);
    } catch (const std::exception& e) {
      std::cerr << SEALSUM_PROGRAM ": internal error: " << e.what() << "\n";
      return 1;
    }
  }
#endif
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  const auto& cmds = sealsum::cli::commands();
  auto it = cmds.find(argv[1]);
  if (it == cmds.end()) {
    std::cerr << SEALSUM_PROGRAM ": unknown command '" << argv[1] << "' (see " SEALSUM_PROGRAM " --help)\n";
    return 2;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    return it->second.run(args);
  } catch (const std::exception& e) {
    std::cerr << SEALSUM_PROGRAM " " << argv[1] << ": internal error: " << e.what() << "\n";
    return 1;
  }
}

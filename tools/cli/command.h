// Subcommand registry and a small, strict argument parser shared by every `sealsum` subcommand.
//
// Each subcommand lives in its own tools/cli/cmd_*.cpp and registers itself with
// SEALSUM_COMMAND(name, summary, fn); fn gets argv starting *after* the subcommand name and returns
// the process exit code. Convention: 0 success, 1 the operation failed (message on stderr), 2 usage
// error. Registration runs during static initialization (single-threaded).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sealsum::cli {

using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  std::string name;
  std::string summary;
  CommandFn run;
};

bool register_command(Command c);
const std::map<std::string, Command>& commands();

#define SEALSUM_COMMAND(name, summary, fn) \
  static const bool SEALSUM_CONCAT(_sealsum_cmd_, __LINE__) = ::sealsum::cli::register_command({name, summary, fn})

// Args: declare options, then parse. `-o X` means `--output X` when --output is declared. Unknown flags, missing values and missing required options are
// usage errors whose message names the flag. `--help`/`-h` sets help_requested().
class Args {
 public:
  Args(std::string command, std::string synopsis) : command_(std::move(command)), synopsis_(std::move(synopsis)) {}

  // --name VALUE (value options) and --name (switches).
  Args& option(const std::string& name, const std::string& metavar, const std::string& help, bool required = false);
  Args& flag(const std::string& name, const std::string& help);
  // Positional arguments, in order; `min`..`max` of them accepted.
  Args& positionals(const std::string& metavar, const std::string& help, size_t min, size_t max);

  Status parse(const std::vector<std::string>& argv);
  bool help_requested() const { return help_; }
  std::string usage() const;

  bool has(const std::string& name) const;  // a switch was given, or an option has a value
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  const std::vector<std::string>& rest() const { return rest_; }

  // Typed getters: a usage error names the flag and the expected form.
  Result<std::optional<long long>> get_int(const std::string& name, long long min, long long max) const;
  Result<std::optional<double>> get_double(const std::string& name) const;

 private:
  struct Opt { std::string metavar, help; bool takes_value, required; };
  std::string command_, synopsis_;
  std::map<std::string, Opt> opts_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> rest_;
  std::string pos_metavar_, pos_help_;
  size_t pos_min_ = 0, pos_max_ = 0;
  bool help_ = false;
};

// Shared tail of every command: prints usage/errors and maps to an exit code.
// Returns -1 when parsing succeeded and the command should continue.
int parse_or_exit(Args& args, const std::vector<std::string>& argv);
// Prints "sealsum: <message>" and the usage to stderr and returns 2 (a usage error).
int usage_error(const Args& args, const std::string& message);
// Prints "sealsum <command>: <status>" to stderr and returns 1.
int fail(const std::string& command, const Status& st);

// The whole of file `path`, or of stdin for "-", refused past `limit` bytes (common/files.h).
Result<std::string> read_input(const std::string& path, size_t limit);

}  // namespace sealsum::cli

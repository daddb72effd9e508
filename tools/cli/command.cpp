#include "tools/cli/command.h"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "common/files.h"

namespace sealsum::cli {

static std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> r;
  return r;
}

bool register_command(Command c) {
  registry()[c.name] = std::move(c);
  return true;
}

const std::map<std::string, Command>& commands() { return registry(); }

static const std::string kOutputFlag = "--output";

Args& Args::option(const std::string& name, const std::string& metavar, const std::string& help, bool required) {
  opts_[name] = {metavar, help, true, required};
  order_.push_back(name);
  return *this;
}

Args& Args::flag(const std::string& name, const std::string& help) {
  opts_[name] = {"", help, false, false};
  order_.push_back(name);
  return *this;
}

Args& Args::positionals(const std::string& metavar, const std::string& help, size_t min, size_t max) {
  pos_metavar_ = metavar;
  pos_help_ = help;
  pos_min_ = min;
  pos_max_ = max;
  return *this;
}

Status Args::parse(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    // `-o X` is the conventional short form of `--output X` wherever --output is declared.
    const std::string& a = (argv[i] == "-o" && opts_.count("output")) ? kOutputFlag : argv[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      return Status::ok();
    }
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      auto it = opts_.find(name);
      if (it == opts_.end()) return invalid_argument("unknown option --" + name + " (see --help)");
      if (!it->second.takes_value) {
        if (inline_value) return invalid_argument("option --" + name + " takes no value");
        values_[name] = "";
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argv.size()) return invalid_argument("option --" + name + " needs a value " + it->second.metavar);
        value = argv[++i];
      }
      values_[name] = value;
      continue;
    }
    rest_.push_back(a);
  }
  for (const auto& [name, o] : opts_) {
    if (o.required && !values_.count(name)) return invalid_argument("missing required option --" + name);
  }
  if (rest_.size() < pos_min_ || rest_.size() > pos_max_) {
    if (pos_max_ == 0) return invalid_argument("unexpected argument '" + rest_.front() + "'");
    return invalid_argument("expected " + std::to_string(pos_min_) +
                            (pos_max_ != pos_min_ ? ".." + std::to_string(pos_max_) : "") + " " +
                            (pos_metavar_.empty() ? "arguments" : pos_metavar_) + ", got " +
                            std::to_string(rest_.size()));
  }
  return Status::ok();
}

std::string Args::usage() const {
  std::ostringstream o;
  o << "usage: sealsum " << command_ << " " << synopsis_ << "\n";
  if (!pos_metavar_.empty()) o << "\n  " << pos_metavar_ << "\n      " << pos_help_ << "\n";
  if (!order_.empty()) o << "\noptions:\n";
  for (const auto& name : order_) {
    const Opt& opt = opts_.at(name);
    o << "  --" << name << (opt.takes_value ? " " + opt.metavar : "") << (opt.required ? "  (required)" : "")
      << "\n      " << opt.help << "\n";
  }
  o << "  --help\n      show this help\n";
  return o.str();
}

bool Args::has(const std::string& name) const { return values_.count(name) != 0; }

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

Result<std::optional<long long>> Args::get_int(const std::string& name, long long min, long long max) const {
  auto v = get(name);
  if (!v) return std::optional<long long>();
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || x < min || x > max) {
    return invalid_argument("--" + name + " expects an integer in [" + std::to_string(min) + ", " +
                            std::to_string(max) + "], got '" + *v + "'");
  }
  return std::optional<long long>(x);
}

Result<std::optional<double>> Args::get_double(const std::string& name) const {
  auto v = get(name);
  if (!v) return std::optional<double>();
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || errno != 0) {
    return invalid_argument("--" + name + " expects a number, got '" + *v + "'");
  }
  return std::optional<double>(x);
}

int parse_or_exit(Args& args, const std::vector<std::string>& argv) {
  Status st = args.parse(argv);
  if (args.help_requested()) {
    std::cout << args.usage();
    return 0;
  }
  if (!st.is_ok()) return usage_error(args, st.message());
  return -1;
}

int usage_error(const Args& args, const std::string& message) {
  std::cerr << "sealsum: " << message << "\n\n" << args.usage();
  return 2;
}

int fail(const std::string& command, const Status& st) {
  std::cerr << "sealsum " << command << ": " << st.to_string() << "\n";
  return 1;
}

Result<std::string> read_input(const std::string& path, size_t limit) {
  if (path == "-") return read_stream_bounded(std::cin, limit, "standard input");
  return read_file_bounded(path, limit);
}

}  // namespace sealsum::cli

#include "bench/options.hpp"

#include <limits>
#include <string>

#include "bench/sweep.hpp"
#include "common/number_text.hpp"
#include "modelgen/network_name.hpp"

namespace p4s::bench {
namespace {

constexpr std::string_view kPrefix = "--p4s_";
constexpr int64_t kMaxBatch = int64_t{1} << 24;

// A positive decimal integer no larger than `max`, or nullopt.
std::optional<int64_t> parse_positive(std::string_view text, int64_t max) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v <= 0 || v > max) return std::nullopt;
  return v;
}

std::vector<int64_t> parse_batches(std::string_view text) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    const std::optional<int64_t> v = parse_positive(item, kMaxBatch);
    if (!v)
      throw std::invalid_argument("\"" + std::string(item) + "\" is not a batch size (a whole number from 1 to " +
                                  std::to_string(kMaxBatch) + ")");
    for (int64_t b : out)
      if (b == *v) throw std::invalid_argument("batch size " + std::to_string(b) + " is given twice");
    out.push_back(*v);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// "cpu", "cuda", "cuda:N" (N a decimal integer from 0 to 1023, no sign or leading zeros).
DeviceChoice parse_device(const std::string& text) {
  if (text == "cpu") return DeviceChoice{DeviceKind::kCpu, 0};
  if (text == "cuda") return DeviceChoice{DeviceKind::kCuda, 0};
  const std::string prefix = "cuda:";
  if (text.compare(0, prefix.size(), prefix) == 0) {
    const std::string n = text.substr(prefix.size());
    if (n == "0") return DeviceChoice{DeviceKind::kCuda, 0};
    const bool leading_zero = !n.empty() && n[0] == '0';
    const std::optional<int64_t> v = leading_zero ? std::nullopt : parse_positive(n, 1023);
    if (v) return DeviceChoice{DeviceKind::kCuda, static_cast<int>(*v)};
  }
  throw std::invalid_argument("\"" + text + "\" is not a device (cpu, cuda or cuda:N)");
}

// A non-negative finite number, or std::invalid_argument.
double parse_setting(const std::string& text) {
  const std::optional<double> v = parse_finite_number(text);
  if (!v || *v < 0) throw std::invalid_argument("\"" + text + "\" is not a non-negative number");
  return *v;
}

// The optimizer's settings as given; they apply over its usual ones (results::use_optimizer)
// whatever the order of the flags.
struct Settings {
  std::optional<double> lr, momentum, weight_decay;
};

void parse_recipe_flag(const std::string& name, const std::string& value, results::Recipe& r, Settings& s) {
  if (name == "optimizer") {
    const std::optional<results::Optimizer> opt = results::optimizer_from_name(value);
    if (!opt) throw std::invalid_argument("\"" + value + "\" is not sgd, sgd-nesterov, adam or adamw");
    results::use_optimizer(r, *opt);
  } else if (name == "lr") {
    s.lr = parse_setting(value);
  } else if (name == "momentum") {
    s.momentum = parse_setting(value);
  } else if (name == "weight_decay") {
    s.weight_decay = parse_setting(value);
  } else if (name == "precision") {
    const std::optional<results::Precision> p = results::precision_from_name(value);
    if (!p) throw std::invalid_argument("\"" + value + "\" is not fp32, bf16 or fp16");
    r.precision = *p;
  } else if (name == "train_from") {
    if (value.empty()) throw std::invalid_argument("needs a layer name (a NetSpec layer of every network)");
    r.train_from = value;
  } else if (name == "freeze_bn") {
    if (value != "0" && value != "1") throw std::invalid_argument("\"" + value + "\" is not 0 or 1");
    r.freeze_bn = value == "1";
  } else if (name == "zero_grad") {
    if (value != "zero" && value != "none") throw std::invalid_argument("\"" + value + "\" is not zero or none");
    r.zero_grad_to_none = value == "none";
  }
}

}  // namespace

std::string DeviceChoice::text() const {
  if (kind == DeviceKind::kCpu) return "cpu";
  return index == 0 ? "cuda" : "cuda:" + std::to_string(index);
}

int64_t parse_bytes(std::string_view text) {
  int64_t unit = 1;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': case 'k': unit = int64_t{1} << 10; break;
      case 'M': case 'm': unit = int64_t{1} << 20; break;
      case 'G': case 'g': unit = int64_t{1} << 30; break;
      case 'T': case 't': unit = int64_t{1} << 40; break;
      default: break;
    }
    if (unit != 1) digits.remove_suffix(1);
  }
  const std::optional<int64_t> v = parse_positive(digits, std::numeric_limits<int64_t>::max() / unit);
  if (!v) {
    const bool digits_only = !digits.empty() && digits.size() <= 40 &&
                             digits.find_first_not_of("0123456789") == std::string_view::npos &&
                             digits.find_first_not_of('0') != std::string_view::npos;
    if (digits_only)  // a number, but more bytes than can be counted
      throw std::invalid_argument("\"" + std::string(text) + "\" is more bytes than a 64-bit count holds");
    throw std::invalid_argument("\"" + std::string(text) +
                                "\" is not a positive byte count (digits, then optionally K, M, G or T)");
  }
  return *v * unit;
}

ParsedArgs parse_args(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  Options& o = parsed.options;
  Settings settings;
  for (const std::string& arg : args) {
    if (arg.compare(0, kPrefix.size(), kPrefix) != 0) {
      parsed.rest.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string flag = arg.substr(0, eq);
    const std::string name = flag.substr(kPrefix.size());
    static const std::vector<std::string> kNames = {
        "sweep",      "batch",        "netspec",   "net",      "mem_limit",    "threads",       "device",
        "kernel_capture", "kernel_trace", "cpu_malloc", "optimizer", "lr", "momentum", "weight_decay",
        "precision",  "train_from",   "freeze_bn", "zero_grad", "resume", "isolate", "case_timeout", "progress",
        "netspec_out"};
    bool known = false;
    for (const std::string& n : kNames) known |= n == name;
    if (!known) throw InputError(flag + ": unknown flag (see --help)");
    if (eq == std::string::npos && name == "freeze_bn") {  // a bare flag
      o.recipe.freeze_bn = true;
      continue;
    }
    if (name == "resume" || name == "isolate") {  // bare flags only
      if (eq != std::string::npos) throw InputError(flag + ": takes no value");
      (name == "resume" ? o.resume : o.isolate) = true;
      continue;
    }
    if (eq == std::string::npos) throw InputError(flag + ": needs a value, as " + flag + "=VALUE");
    const std::string value = arg.substr(eq + 1);
    try {
      if (name == "sweep") {
        if (!is_sweep_name(value))
          throw std::invalid_argument("\"" + value + "\" is not a sweep (" + sweep_names_text() + ")");
        o.sweep = value;
        o.sweep_given = true;
      } else if (name == "batch") {
        o.net_batches = parse_batches(value);
      } else if (name == "netspec") {
        if (value.empty()) throw std::invalid_argument("needs a file name");
        o.netspec_paths.push_back(value);
      } else if (name == "net") {
        if (value.empty()) throw std::invalid_argument("needs a network name (see p4s nets list)");
        try {
          modelgen::parse_network_name(value);
        } catch (const modelgen::NetworkNameError& e) {
          throw std::invalid_argument(e.what());
        }
        o.net_names.push_back(value);
      } else if (name == "mem_limit") {
        o.mem_limit_bytes = parse_bytes(value);
      } else if (name == "threads") {
        const std::optional<int64_t> n = parse_positive(value, 4096);
        if (!n) throw std::invalid_argument("\"" + value + "\" is not a thread count from 1 to 4096");
        o.threads = static_cast<int>(*n);
      } else if (name == "device") {
        o.device = parse_device(value);
      } else if (name == "kernel_capture") {
        if (value != "on" && value != "off") throw std::invalid_argument("\"" + value + "\" is not on or off");
        o.kernel_capture = value == "on";
      } else if (name == "kernel_trace") {
        if (value.empty()) throw std::invalid_argument("needs a file name");
        o.kernel_trace_path = value;
      } else if (name == "case_timeout") {
        const std::optional<double> t = parse_finite_number(value);
        if (!t || !(*t > 0) || *t > 7 * 24 * 3600.0)
          throw std::invalid_argument("\"" + value + "\" is not a number of seconds above 0, at most a week");
        o.case_timeout_s = *t;
        o.isolate = true;
      } else if (name == "netspec_out") {
        if (value.empty()) throw std::invalid_argument("needs a folder name");
        o.netspec_out = value;
      } else if (name == "progress") {
        if (value.empty()) throw std::invalid_argument("needs a file name");
        o.progress_path = value;
      } else if (name == "cpu_malloc") {
        if (value != "steady" && value != "system") throw std::invalid_argument("\"" + value + "\" is not steady or system");
        o.cpu_malloc_steady = value == "steady";
      } else {
        parse_recipe_flag(name, value, o.recipe, settings);
      }
    } catch (const std::invalid_argument& e) {
      throw InputError(flag + ": " + e.what());
    }
  }
  if (settings.lr) o.recipe.lr = *settings.lr;
  if (settings.momentum) o.recipe.momentum = *settings.momentum;
  if (settings.weight_decay) o.recipe.weight_decay = *settings.weight_decay;
  if (o.recipe.optimizer == results::Optimizer::kSgdNesterov && !(o.recipe.momentum > 0))
    throw InputError("--p4s_optimizer=sgd-nesterov: needs a momentum above 0 (--p4s_momentum)");
  if (o.recipe.freeze_bn && o.recipe.train_from.empty())
    throw InputError("--p4s_freeze_bn: needs --p4s_train_from (no layer is frozen without it)");
  return parsed;
}

std::string options_help() {
  return "perf4sight bench flags (before Google Benchmark's own):\n"
         "  --p4s_sweep=quick|standard|full|none\n"
         "                                   layer shapes, networks, batch sizes and repetitions\n"
         "                                   (bench's default quick; a plugin's none: its own cases)\n"
         "  --p4s_netspec=FILE               add Net/<name>/bs:N cases for a NetSpec file (repeatable)\n"
         "  --p4s_net=NAME                   add Net/<name>/bs:N cases for a built-in network, e.g.\n"
         "                                   resnet18_p50_s1 (repeatable; see p4s nets list)\n"
         "  --p4s_batch=N[,N...]             the batch sizes of network cases (default: the sweep's)\n"
         "  --p4s_mem_limit=BYTES            emulate a device of BYTES (suffix K, M, G, T)\n"
         "  --p4s_threads=N                  LibTorch intra-op threads (default: LibTorch's)\n"
         "  --p4s_device=cpu|cuda|cuda:N     where the cases run (default: cuda when usable, else cpu)\n"
         "  --p4s_kernel_capture=on|off      CUPTI kernel counters where capture is available (default on)\n"
         "  --p4s_kernel_trace=FILE          write the kernels of the first measured steps of each case\n"
         "  --p4s_cpu_malloc=steady|system   CPU: keep freed heap memory between steps (default steady)\n"
         "                                   or glibc's defaults\n"
         "  --p4s_resume                     continue into the --benchmark_out file, skipping its cases\n"
         "  --p4s_isolate                    run the cases in a child process; a case that kills it\n"
         "                                   becomes an error entry and the sweep goes on\n"
         "  --p4s_case_timeout=SECONDS       stop a case that runs longer (implies --p4s_isolate)\n"
         "  --p4s_progress=FILE              keep the name of the case now running in FILE\n"
         "  --p4s_netspec_out=DIR            write each network's NetSpec as DIR/<name>.json (a plugin's\n"
         "                                   modules described), for p4s fit --netspecs DIR\n"
         "the training recipe of every case (default: SGD lr 0.1, momentum 0.9, weight decay 5e-4,\n"
         "fp32, every layer trained), written in the results' context:\n"
         "  --p4s_optimizer=NAME             sgd, sgd-nesterov, adam or adamw, with its usual settings\n"
         "  --p4s_lr=X, --p4s_momentum=X, --p4s_weight_decay=X   the optimizer's settings\n"
         "  --p4s_precision=NAME             fp32; bf16 autocast (CPU, CUDA); fp16 autocast with a\n"
         "                                   gradient scaler (CUDA)\n"
         "  --p4s_train_from=LAYER           network cases: that layer and every later one train,\n"
         "                                   the earlier ones are frozen\n"
         "  --p4s_freeze_bn                  the frozen layers' batch norms in eval mode\n"
         "  --p4s_zero_grad=zero|none        zero: gradients zeroed in place after the forward pass\n"
         "                                   (default); none: set to none before it (PyTorch 2.x)\n";
}

}  // namespace p4s::bench

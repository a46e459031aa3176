// `p4s nets`: the built-in networks. `list` shows the families and the name grammar, `export`
// writes one network as a NetSpec file, `show` prints its layers with shapes, parameters
// and MACs. `import` turns a TorchScript file into a NetSpec; it needs LibTorch, which p4s does
// not link, so p4s hands it to p4s-torch, installed beside it when LibTorch was found.
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "common/number_text.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/families.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/pruning.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::cli {
namespace {

using modelgen::Dataset;
using modelgen::NetworkId;

constexpr const char* kUsage =
    "usage: p4s nets list\n"
    "       p4s nets export <name-or-family> [options] -o FILE\n"
    "       p4s nets show <name-or-family> [options]\n"
    "       p4s nets import MODEL.pt [--input C,H,W] [--name NAME] [-o FILE]\n"
    "\n"
    "list    the families, their ImageNet parameter counts, and the network name grammar\n"
    "export  write the network as a NetSpec file (atomically)\n"
    "show    print the network's layers: op, output shape, parameters, MACs per sample\n"
    "import  turn a traced or scripted CNN (torch.jit.save) into a NetSpec file, or print it\n"
    "        without -o; the model runs once on a random batch of --input (default 3,224,224;\n"
    "        one size N means 3,N,N); --name sets the NetSpec's name (default: the file's)\n"
    "\n"
    "options (with a bare family id; a full name already says all of them):\n"
    "  --prune P     remove P percent (0..95) of the parameters by random channel pruning\n"
    "  --seed S      the pruning seed (needed with --prune above 0)\n"
    "  --input N     224 (ImageNet, the default) or 32 (CIFAR)\n"
    "  --classes N   1000 with --input 224; 10 (the default) or 100 with --input 32\n"
    "  --width W     width multiplier in [0.1, 4], at most 3 decimals (default 1)\n"
    "  -o, --out F   the file export writes\n";

constexpr const char* kGrammar =
    "Network names: <family>[_cifar10|_cifar100][_w<width>][_p<level>_s<seed>]\n"
    "  _cifar10, _cifar100   32x32 inputs, 10 or 100 classes (without: 224x224, 1000 classes)\n"
    "  _w<width>             width multiplier in [0.1, 4], e.g. _w0.5 (without: 1)\n"
    "  _p<level>_s<seed>     random channel pruning: <level> percent (1..95) of the parameters\n"
    "                        removed, with pruning seed <seed> (without: unpruned)\n"
    "  e.g. resnet18, resnet18_p50_s1, mobilenetv2_cifar10_w0.5_p30_s7\n";

// 11689512 -> "11,689,512".
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

struct NetsArgs {
  std::string target;  // a network name or family id
  std::optional<std::string> prune, seed, input, classes, width, out;
};

// The one network argument and the options after the subcommand (args[0]).
NetsArgs parse_args(const std::vector<std::string>& args, bool with_output) {
  std::vector<OptionSpec> specs{{"--prune"}, {"--seed"}, {"--input"}, {"--classes"}, {"--width"}};
  if (with_output) {
    specs.push_back({"-o"});
    specs.push_back({"--out"});
  }
  const Arguments parsed(std::vector<std::string>(args.begin() + 1, args.end()), specs);
  if (parsed.has("-o") && parsed.has("--out")) throw InputError("-o and --out: give the file once");
  NetsArgs a;
  auto take = [&](const char* name, std::optional<std::string>& slot) {
    if (parsed.has(name)) slot = parsed.value(name);
  };
  take("--prune", a.prune);
  take("--seed", a.seed);
  take("--input", a.input);
  take("--classes", a.classes);
  take("--width", a.width);
  if (with_output) {
    take("-o", a.out);
    take("--out", a.out);
  }
  const std::vector<std::string>& pos = parsed.positionals();
  if (pos.size() > 1) throw InputError("unexpected argument \"" + pos[1] + "\": give one network");
  if (pos.empty()) throw InputError("give a network name or family id (see 'p4s nets list')");
  a.target = pos[0];
  return a;
}

NetworkId resolve(const NetsArgs& a) {
  NetworkId id = modelgen::parse_network_name(a.target);
  const std::optional<std::string>* given[] = {&a.prune, &a.seed, &a.input, &a.classes, &a.width};
  const char* names[] = {"--prune", "--seed", "--input", "--classes", "--width"};
  const bool bare = id == NetworkId{id.family, Dataset::kImageNet, modelgen::kDefaultWidthPermille, 0, 0};
  for (size_t i = 0; i < std::size(given); ++i)
    if (given[i]->has_value() && !bare)
      throw InputError(std::string(names[i]) + ": options refine a bare family id, and \"" + a.target +
                       "\" already is a full name");

  if (a.prune) {
    const std::optional<uint64_t> p = parse_integer<uint64_t>(*a.prune);
    if (!p || *p > static_cast<uint64_t>(modelgen::kMaxPrunePercent))
      throw InputError("--prune " + *a.prune + ": the level must be a whole percent within 0..95");
    id.prune_percent = static_cast<int>(*p);
  }
  if (a.seed) {
    const std::optional<uint64_t> s = parse_integer<uint64_t>(*a.seed);
    if (!s) throw InputError("--seed " + *a.seed + ": the seed must be an unsigned integer");
    if (!a.prune) throw InputError("--seed " + *a.seed + ": a seed needs --prune");
    id.seed = *s;
  }
  if (a.prune && id.prune_percent > 0 && !a.seed)
    throw InputError("--prune " + *a.prune + ": needs --seed S (the seed is part of the network's name)");
  if (id.prune_percent == 0) id.seed = 0;  // the unpruned network has no seed

  std::optional<int64_t> input;
  if (a.input) {
    if (*a.input != "224" && *a.input != "32")
      throw InputError("--input " + *a.input + ": must be 224 (ImageNet) or 32 (CIFAR)");
    input = *a.input == "224" ? 224 : 32;
  }
  if (a.classes) {
    const std::optional<uint64_t> c = parse_integer<uint64_t>(*a.classes);
    const bool cifar = c && (*c == 10 || *c == 100);
    if (!c || (!cifar && *c != 1000))
      throw InputError("--classes " + *a.classes +
                       ": built-in networks have 1000 classes (224x224) or 10 or 100 (32x32)");
    if (input && (*input == 32) != cifar)
      throw InputError("--classes " + *a.classes + ": " +
                       (*input == 32 ? "32x32 networks have 10 or 100 classes"
                                     : "224x224 networks have 1000 classes (use --input 32 for 10 or 100)"));
    id.dataset = *c == 1000 ? Dataset::kImageNet : *c == 10 ? Dataset::kCifar10 : Dataset::kCifar100;
  } else if (input && *input == 32) {
    id.dataset = Dataset::kCifar10;
  }
  if (a.width) {
    const std::optional<int> w = modelgen::parse_width_permille(*a.width);
    if (!w) throw InputError("--width " + *a.width + ": must be a decimal number with at most 3 decimals");
    if (*w < modelgen::kMinWidthPermille || *w > modelgen::kMaxWidthPermille)
      throw InputError("--width " + *a.width + ": must be within [0.1, 4]");
    id.width_permille = *w;
  }
  return id;
}

// A level the network cannot reach is the caller's to change (PruneError, an InputError).
modelgen::NetSpec build(const NetworkId& id) { return modelgen::make_builtin_network(id); }

int run_list(const std::vector<std::string>& args) {
  if (args.size() > 1) throw InputError("list takes no arguments, got \"" + args[1] + "\"");
  std::printf("Built-in networks (parameters at 224x224, 1000 classes):\n");
  int id_width = 0;  // the longest id's, so that the columns line up
  for (const modelgen::Family& f : modelgen::families()) id_width = std::max(id_width, static_cast<int>(f.id.size()));
  for (const modelgen::Family& f : modelgen::families()) {
    const int64_t params = modelgen::infer_shapes(modelgen::make_builtin_network(f.id)).params;
    std::printf("  %-*s %12s  %.*s (torchvision %.*s)\n", id_width, std::string(f.id).c_str(), grouped(params).c_str(),
                static_cast<int>(f.description.size()), f.description.data(),
                static_cast<int>(f.torchvision.size()), f.torchvision.data());
  }
  std::printf("\n%s", kGrammar);
  return kExitOk;
}

int run_export(const std::vector<std::string>& args) {
  const NetsArgs a = parse_args(args, true);
  if (!a.out) throw InputError("-o FILE is missing: where to write the NetSpec");
  const NetworkId id = resolve(a);
  check_output_file(*a.out, "-o");
  const modelgen::NetSpec spec = build(id);
  try {
    modelgen::write_netspec(spec, *a.out);
  } catch (const std::runtime_error& e) {
    throw InputError(std::string("-o ") + e.what());
  }
  std::printf("wrote %s (%s parameters) to %s\n", spec.name.c_str(),
              grouped(modelgen::infer_shapes(spec).params).c_str(), a.out->c_str());
  return kExitOk;
}

int run_show(const std::vector<std::string>& args) {
  const NetsArgs a = parse_args(args, false);
  const modelgen::NetSpec spec = build(resolve(a));
  const modelgen::ShapedNet net = modelgen::infer_shapes(spec, spec.name);
  size_t name_width = 5;
  for (const modelgen::Layer& l : spec.layers) name_width = std::max(name_width, l.name.size());
  const int nw = static_cast<int>(name_width);
  std::printf("%s: input [%lld, %lld, %lld], %lld classes\n", spec.name.c_str(),
              static_cast<long long>(spec.input.channels), static_cast<long long>(spec.input.height),
              static_cast<long long>(spec.input.width), static_cast<long long>(spec.classes));
  std::printf("%4s  %-*s  %-18s  %-16s  %12s  %15s\n", "#", nw, "layer", "op", "output", "params", "MACs");
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const modelgen::Layer& l = spec.layers[i];
    const modelgen::LayerShape& s = net.layers[i];
    std::printf("%4zu  %-*s  %-18s  %-16s  %12s  %15s\n", i, nw, l.name.c_str(),
                std::string(modelgen::op_name(l.op)).c_str(), s.out.str().c_str(), grouped(s.params).c_str(),
                grouped(s.forward_macs).c_str());
  }
  std::printf("total: %zu layers, %s parameters, %s buffers, %s MACs per sample\n", spec.layers.size(),
              grouped(net.params).c_str(), grouped(net.buffers).c_str(), grouped(net.forward_macs).c_str());
  return kExitOk;
}

#ifdef P4S_HAVE_TORCH_IMPORT
// The folder of the running executable, from /proc/self/exe.
std::string own_folder() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) throw std::runtime_error(std::string("cannot find the p4s executable: ") + std::strerror(errno));
  const std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.find_last_of('/'));
}

#endif

// Replaces this process with `p4s-torch nets import ...`, which exits with its own status.
int run_import(const std::vector<std::string>& args) {
#ifdef P4S_HAVE_TORCH_IMPORT
  const std::string exe = own_folder() + "/p4s-torch";
  if (access(exe.c_str(), X_OK) != 0)
    throw InputError("import runs p4s-torch, the LibTorch half of p4s, which should be at " + exe +
                     " but is not (" + std::strerror(errno) + ")");
  std::vector<std::string> argv_strings = {exe, "nets"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  execv(exe.c_str(), argv.data());
  throw std::runtime_error("cannot run " + exe + ": " + std::strerror(errno));
#else
  (void)args;
  throw InputError("import needs LibTorch, and this installation of p4s was built without it (no p4s-torch)");
#endif
}

}  // namespace

int run_nets(const std::vector<std::string>& args) {
  if (args.empty()) throw InputError("missing subcommand: list, export, show or import (see 'p4s nets --help')");
  const std::string& sub = args[0];
  // Help anywhere, as the other commands take it: `p4s nets show --help` too.
  const bool help = sub == "help" || std::any_of(args.begin(), args.end(),
                                                 [](const std::string& a) { return a == "--help" || a == "-h"; });
  if (help) {
    std::printf("%s\n%s", kUsage, kGrammar);
    return kExitOk;
  }
  if (sub == "list") return run_list(args);
  if (sub == "export") return run_export(args);
  if (sub == "show") return run_show(args);
  if (sub == "import") return run_import(args);
  throw InputError("unknown subcommand \"" + sub + "\": expected list, export, show or import");
}

}  // namespace p4s::cli

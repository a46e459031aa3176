// `nets import`: a TorchScript file (traced or scripted CNN) as a NetSpec file. Part of
// p4s-torch, the LibTorch-linked half of the command line.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "common/number_text.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/torchscript_import.hpp"

namespace p4s::cli {
namespace {

constexpr uint32_t kMaxInputSize = 9'999'999;  // a larger size is a typo

// "3,32,32" -> {3, 32, 32}; "32" -> {3, 32, 32}. Throws InputError.
modelgen::InputSpec parse_input(const std::string& text) {
  std::vector<int64_t> v;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::optional<uint32_t> n = parse_integer<uint32_t>(item);
    if (!n || *n == 0 || *n > kMaxInputSize)
      throw InputError("--input " + text + ": give C,H,W (e.g. 3,32,32) or one size N for 3,N,N");
    v.push_back(*n);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (v.size() == 1) return {3, v[0], v[0]};
  if (v.size() == 3) return {v[0], v[1], v[2]};
  throw InputError("--input " + text + ": give C,H,W (e.g. 3,32,32) or one size N for 3,N,N");
}

}  // namespace

int run_nets_import(const std::vector<std::string>& args) {
  std::optional<std::string> model, out, input, name;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.empty() || arg[0] != '-') {
      if (model) throw InputError("unexpected argument \"" + arg + "\": give one TorchScript file");
      model = arg;
      continue;
    }
    std::string key = arg;
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      key = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    std::optional<std::string>* slot = nullptr;
    if (key == "-o" || key == "--out") slot = &out;
    else if (key == "--input") slot = &input;
    else if (key == "--name") slot = &name;
    if (!slot) throw InputError("unknown option \"" + key + "\" (see 'p4s nets --help')");
    if (slot->has_value()) throw InputError(key + ": given twice");
    if (!value) {
      if (i + 1 >= args.size()) throw InputError(key + ": missing value");
      value = args[++i];
    }
    *slot = *value;
  }
  if (!model) throw InputError("give the TorchScript file to import (torch.jit.save of a traced or scripted CNN)");
  if (out && out->empty()) throw InputError("-o: the file name is empty");
  modelgen_torch::ImportOptions options;
  if (input) options.input = parse_input(*input);
  if (name) {
    if (name->empty()) throw InputError("--name: the name is empty");
    options.name = *name;
  }

  const modelgen::NetSpec spec = modelgen_torch::import_torchscript(*model, options);
  if (!out) {
    std::fputs(modelgen::netspec_to_json(spec).c_str(), stdout);
    return kExitOk;
  }
  try {
    modelgen::write_netspec(spec, *out);
  } catch (const std::runtime_error& e) {
    throw InputError(std::string("-o ") + e.what());
  }
  const modelgen::ShapedNet shapes = modelgen::infer_shapes(spec, *out);
  std::printf("wrote %s (%zu layers, %lld parameters) to %s\n", spec.name.c_str(), spec.layers.size(),
              static_cast<long long>(shapes.params), out->c_str());
  return kExitOk;
}

}  // namespace p4s::cli

// `p4s nets` as users run it: the real binary, its exit status, stdout, stderr and files.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "tests/cli/run_p4s.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/families.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"

namespace p4s {
namespace {

using test::Outcome;
using test::exists;
using test::p4s;
using test::temp_path;

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(NetsCli, ListShowsEveryFamilyWithItsParametersAndTheGrammar) {
  const Outcome r = p4s({"nets", "list"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const modelgen::Family& f : modelgen::families()) {
    const size_t at = r.out.find("  " + std::string(f.id) + " ");
    EXPECT_NE(at, std::string::npos) << f.id;
    const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    EXPECT_NE(line.find(std::string(f.description)), std::string::npos) << line;
  }
  EXPECT_NE(r.out.find("resnet18           11,689,512"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vgg16bn           138,365,992"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<family>[_cifar10|_cifar100][_w<width>][_p<level>_s<seed>]"), std::string::npos);
}

TEST(NetsCli, ExportWritesTheBuiltinNetwork) {
  const std::string path = temp_path("export_by_name.json");
  const Outcome r = p4s({"nets", "export", "resnet18_cifar100_w0.5_p30_s2", "-o", path});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("wrote resnet18_cifar100_w0.5_p30_s2"), std::string::npos) << r.out;
  const modelgen::NetSpec spec = modelgen::read_netspec(path);
  EXPECT_EQ(spec, modelgen::make_builtin_network("resnet18_cifar100_w0.5_p30_s2"));
}

TEST(NetsCli, OptionsMakeTheSameFileAsTheName) {
  const std::string by_name = temp_path("by_name.json"), by_options = temp_path("by_options.json");
  ASSERT_EQ(p4s({"nets", "export", "mobilenetv2_cifar10_w0.5_p30_s7", "-o", by_name}).status, 0);
  const Outcome r = p4s({"nets", "export", "mobilenetv2", "--prune", "30", "--seed=7", "--input", "32",
                     "--classes", "10", "--width", "0.50", "--out", by_options});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(by_options), read_file(by_name));
  // --prune 0 is the unpruned network, whatever the seed; its name has neither.
  const std::string unpruned = temp_path("unpruned.json");
  ASSERT_EQ(p4s({"nets", "export", "squeezenet1.1", "--prune", "0", "--seed", "3", "-o", unpruned}).status, 0);
  EXPECT_EQ(modelgen::read_netspec(unpruned).name, "squeezenet1.1");
}

TEST(NetsCli, ExportReplacesAnExistingFile) {
  const std::string path = temp_path("replaced.json");
  write_file_atomically(path, "old contents\n");
  ASSERT_EQ(p4s({"nets", "export", "alexnet", "-o", path}).status, 0);
  EXPECT_EQ(modelgen::read_netspec(path).name, "alexnet");
}

TEST(NetsCli, ShowPrintsOneLinePerLayerAndTotals) {
  const Outcome r = p4s({"nets", "show", "resnet18"});
  ASSERT_EQ(r.status, 0) << r.err;
  const modelgen::NetSpec spec = modelgen::make_builtin_network("resnet18");
  EXPECT_EQ(count_lines(r.out), spec.layers.size() + 3);  // title, header, layers, totals
  EXPECT_NE(r.out.find("resnet18: input [3, 224, 224], 1000 classes"), std::string::npos);
  // conv1: 64 x 3 x 7 x 7 weights, 112 x 112 outputs per channel.
  EXPECT_NE(r.out.find("conv1"), std::string::npos);
  EXPECT_NE(r.out.find("[64, 112, 112]"), std::string::npos);
  EXPECT_NE(r.out.find("9,408"), std::string::npos);
  EXPECT_NE(r.out.find("118,013,952"), std::string::npos);
  EXPECT_NE(r.out.find("total: 69 layers, 11,689,512 parameters, 9,600 buffers, 1,814,073,344 MACs per sample"),
            std::string::npos)
      << r.out;
  const Outcome pruned = p4s({"nets", "show", "googlenet", "--prune", "40", "--seed", "1"});
  ASSERT_EQ(pruned.status, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("googlenet_p40_s1: input"), std::string::npos);
}

TEST(NetsCli, HelpGoesToStdout) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"nets", "--help"}, {"nets", "-h"}, {"nets", "help"}, {"nets", "list", "--help"},
        {"nets", "export", "resnet18", "--help"}, {"nets", "show", "--help"}, {"nets", "import", "-h"}}) {
    const Outcome r = p4s(args);
    EXPECT_EQ(r.status, 0) << args[1] << ": " << r.err;
    EXPECT_NE(r.out.find("usage: p4s nets list"), std::string::npos) << args[1];
    EXPECT_EQ(r.err, "") << args[1];
  }
}

struct Bad {
  std::vector<std::string> args;  // "OUT" stands for a fresh output path
  const char* message;            // expected in the one line on stderr
};

void PrintTo(const Bad& b, std::ostream* os) {
  for (const std::string& a : b.args) *os << a << ' ';
}

class NetsCliBadInput : public testing::TestWithParam<Bad> {};

TEST_P(NetsCliBadInput, ExitsTwoWithOneLineAndNoFile) {
  const std::string out = temp_path("bad_input.json");
  std::vector<std::string> args = {"nets"};
  for (const std::string& a : GetParam().args) args.push_back(a == "OUT" ? out : a);
  const Outcome r = p4s(args);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("p4s nets: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(GetParam().message), std::string::npos) << r.err;
  EXPECT_FALSE(exists(out));
}

INSTANTIATE_TEST_SUITE_P(
    All, NetsCliBadInput,
    testing::Values(
        Bad{{}, "missing subcommand"}, Bad{{"fit"}, "unknown subcommand \"fit\""},
        Bad{{"export", "-o", "OUT"}, "give a network name or family id"},
        Bad{{"export", "resnet19", "-o", "OUT"}, "\"resnet19\": unknown family \"resnet19\""},
        Bad{{"export", "resnet18_50", "-o", "OUT"}, "\"resnet18_50\": unknown part \"_50\""},
        Bad{{"export", "resnet18_p50", "-o", "OUT"}, "_p50 needs a seed"},
        Bad{{"export", "resnet18_w1", "-o", "OUT"}, "width 1 is the default"},
        Bad{{"export", "resnet18", "--prune", "96", "--seed", "1", "-o", "OUT"}, "--prune 96: the level must be"},
        Bad{{"export", "resnet18", "--prune", "half", "--seed", "1", "-o", "OUT"}, "--prune half"},
        Bad{{"export", "resnet18", "--prune", "50", "-o", "OUT"}, "--prune 50: needs --seed"},
        Bad{{"export", "resnet18", "--seed", "1", "-o", "OUT"}, "--seed 1: a seed needs --prune"},
        Bad{{"export", "resnet18", "--prune", "50", "--seed", "-1", "-o", "OUT"}, "--seed -1"},
        Bad{{"export", "resnet18", "--prune", "50", "--seed", "18446744073709551616", "-o", "OUT"},
            "--seed 18446744073709551616: the seed must be an unsigned integer"},
        Bad{{"export", "resnet18", "--input", "64", "-o", "OUT"}, "--input 64: must be 224 (ImageNet) or 32"},
        Bad{{"export", "resnet18", "--classes", "37", "-o", "OUT"}, "--classes 37"},
        Bad{{"export", "resnet18", "--input", "224", "--classes", "10", "-o", "OUT"}, "224x224 networks have 1000"},
        Bad{{"export", "resnet18", "--input", "32", "--classes", "1000", "-o", "OUT"}, "32x32 networks have 10 or 100"},
        Bad{{"export", "resnet18", "--width", "0.05", "-o", "OUT"}, "--width 0.05: must be within [0.1, 4]"},
        Bad{{"export", "resnet18", "--width", "wide", "-o", "OUT"}, "--width wide"},
        Bad{{"export", "resnet18_cifar10", "--width", "0.5", "-o", "OUT"}, "already is a full name"},
        Bad{{"export", "resnet18", "--depth", "3", "-o", "OUT"}, "unknown option \"--depth\""},
        Bad{{"export", "resnet18", "--prune", "50", "--prune", "60", "--seed", "1", "-o", "OUT"}, "given twice"},
        Bad{{"export", "resnet18", "vgg16", "-o", "OUT"}, "unexpected argument \"vgg16\""},
        Bad{{"export", "resnet18"}, "-o FILE is missing"}, Bad{{"export", "resnet18", "-o"}, "-o: missing value"},
        Bad{{"export", "resnet18", "-o", "/nonexistent-dir/x.json"}, "-o /nonexistent-dir/x.json"},
        Bad{{"show", "vgg11_p50_s"}, "the seed must be an unsigned integer"},
        Bad{{"show", "resnet18", "-o", "OUT"}, "unknown option \"-o\""},
        Bad{{"list", "resnet18"}, "list takes no arguments"}));

TEST(NetsCli, BadInputLeavesAnExistingFileAlone) {
  const std::string path = temp_path("kept.json");
  write_file_atomically(path, "keep me\n");
  const Outcome r = p4s({"nets", "export", "resnet18_p99_s1", "-o", path});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(read_file(path), "keep me\n");
}

}  // namespace
}  // namespace p4s

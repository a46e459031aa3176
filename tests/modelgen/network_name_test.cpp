// Network names: parsing, canonical names, round trips, and the one-line errors for names that
// do not parse.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "modelgen/builtin.hpp"
#include "modelgen/network_name.hpp"

namespace p4s::modelgen {
namespace {

TEST(NetworkName, ParsesEveryPart) {
  const NetworkId id = parse_network_name("mobilenetv2_cifar10_w0.5_p30_s7");
  EXPECT_EQ(id.family, "mobilenetv2");
  EXPECT_EQ(id.dataset, Dataset::kCifar10);
  EXPECT_EQ(id.width_permille, 500);
  EXPECT_EQ(id.prune_percent, 30);
  EXPECT_EQ(id.seed, 7u);

  const NetworkId plain = parse_network_name("resnet18");
  EXPECT_EQ(plain, (NetworkId{"resnet18", Dataset::kImageNet, 1000, 0, 0}));
  EXPECT_EQ(parse_network_name("resnet18_p50_s1"), (NetworkId{"resnet18", Dataset::kImageNet, 1000, 50, 1}));
  EXPECT_EQ(parse_network_name("squeezenet1.1_cifar100").dataset, Dataset::kCifar100);
  EXPECT_EQ(parse_network_name("vgg16bn_w1.25").width_permille, 1250);
}

TEST(NetworkName, CanonicalNamesRoundTrip) {
  int checked = 0;
  for (const Family& f : families())
    for (Dataset d : {Dataset::kImageNet, Dataset::kCifar10, Dataset::kCifar100})
      for (int w : {1000, 100, 250, 500, 750, 1001, 1300, 2000, 4000})
        for (int level : {0, 5, 50, 95})
          for (uint64_t seed : {uint64_t{0}, uint64_t{1}, std::numeric_limits<uint64_t>::max()}) {
            if (level == 0 && seed != 0) continue;
            const NetworkId id{std::string(f.id), d, w, level, seed};
            const std::string name = network_name(id);
            SCOPED_TRACE(name);
            EXPECT_EQ(parse_network_name(name), id);
            EXPECT_EQ(network_name(parse_network_name(name)), name);
            ++checked;
          }
  EXPECT_EQ(checked, static_cast<int>(families().size()) * 3 * 9 * 10);
}

// The NetSpec 1.1 families' ids hold digits and dots but no '_', so the name splits as before.
TEST(NetworkName, NetSpec11FamilyIdsParse) {
  for (const char* id : {"mobilenetv3small", "mobilenetv3large", "efficientnetb0", "efficientnetb1",
                         "efficientnetb2", "efficientnetb3", "shufflenetv2x0.5", "shufflenetv2x1.0",
                         "shufflenetv2x1.5", "shufflenetv2x2.0", "regnety400mf", "regnety800mf",
                         "regnety1.6gf", "convnexttiny", "densenet121"}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(parse_network_name(id).family, id);
    const std::string name = std::string(id) + "_cifar10_w0.5_p30_s7";
    const NetworkId parsed = parse_network_name(name);
    EXPECT_EQ(parsed, (NetworkId{id, Dataset::kCifar10, 500, 30, 7}));
    EXPECT_EQ(network_name(parsed), name);
  }
  EXPECT_THROW(parse_network_name("shufflenet_v2_x1_0"), NetworkNameError);  // torchvision's name
  EXPECT_THROW(parse_network_name("regnety1.6gf_w0.50"), NetworkNameError);
}

TEST(NetworkName, CanonicalNameLeavesOutDefaults) {
  EXPECT_EQ(network_name({"resnet18", Dataset::kImageNet, 1000, 0, 0}), "resnet18");
  EXPECT_EQ(network_name({"resnet18", Dataset::kImageNet, 1000, 0, 42}), "resnet18");  // no level, no seed
  EXPECT_EQ(network_name({"resnet18", Dataset::kImageNet, 1000, 50, 1}), "resnet18_p50_s1");
  EXPECT_EQ(network_name({"mobilenetv2", Dataset::kCifar10, 500, 30, 7}), "mobilenetv2_cifar10_w0.5_p30_s7");
  EXPECT_EQ(network_name({"mnasnet1.0", Dataset::kCifar100, 2000, 0, 0}), "mnasnet1.0_cifar100_w2");
  EXPECT_THROW(network_name({"resnet19", Dataset::kImageNet, 1000, 0, 0}), std::invalid_argument);
  EXPECT_THROW(network_name({"resnet18", Dataset::kImageNet, 99, 0, 0}), std::invalid_argument);
  EXPECT_THROW(network_name({"resnet18", Dataset::kImageNet, 1000, 96, 1}), std::invalid_argument);
}

TEST(NetworkName, WidthFormatting) {
  EXPECT_EQ(format_width(500), "0.5");
  EXPECT_EQ(format_width(1250), "1.25");
  EXPECT_EQ(format_width(2000), "2");
  EXPECT_EQ(format_width(1005), "1.005");
  EXPECT_EQ(parse_width_permille("0.50"), 500);
  EXPECT_EQ(parse_width_permille("2"), 2000);
  EXPECT_EQ(parse_width_permille("1.005"), 1005);
  EXPECT_FALSE(parse_width_permille("1.0005"));
  EXPECT_FALSE(parse_width_permille(".5"));
  EXPECT_FALSE(parse_width_permille("0.5x"));
  EXPECT_FALSE(parse_width_permille("-1"));
  EXPECT_FALSE(parse_width_permille(""));
}

struct BadName {
  const char* name;
  const char* problem;  // expected in the message
};

void PrintTo(const BadName& b, std::ostream* os) { *os << '"' << b.name << '"'; }

class BadNetworkName : public testing::TestWithParam<BadName> {};

TEST_P(BadNetworkName, IsRefusedWithTheNameAndTheProblemOnOneLine) {
  try {
    parse_network_name(GetParam().name);
    FAIL() << "accepted";
  } catch (const NetworkNameError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("\"" + std::string(GetParam().name) + "\": ", 0), 0u) << what;
    EXPECT_NE(what.find(GetParam().problem), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_FALSE(builtin_network(GetParam().name).has_value());
}

INSTANTIATE_TEST_SUITE_P(
    All, BadNetworkName,
    testing::Values(BadName{"", "empty"}, BadName{"resnet19", "unknown family \"resnet19\" (known: resnet18,"},
                    BadName{"_p50_s1", "must start with a family id"},
                    BadName{"resnet18_50", "unknown part \"_50\""},  // the TX2 files' naming
                    BadName{"resnet18_cifar1", "unknown part \"_cifar1\""},
                    BadName{"resnet18_imagenet", "unknown part"},
                    BadName{"resnet18__p50_s1", "two '_' in a row"},
                    BadName{"resnet18_", "trailing '_'"},
                    BadName{"resnet18_w0.5_cifar10", "must come right after the family id"},
                    BadName{"resnet18_cifar10_cifar100", "must come right after the family id"},
                    BadName{"resnet18_p50_s1_w0.5", "out of place"},
                    BadName{"resnet18_w0.5_w0.5", "out of place"},
                    BadName{"resnet18_w", "decimal number"},
                    BadName{"resnet18_whalf", "decimal number"},
                    BadName{"resnet18_w0.1234", "at most 3 decimals"},
                    BadName{"resnet18_w1", "width 1 is the default"},
                    BadName{"resnet18_w1.000", "width 1 is the default"},
                    BadName{"resnet18_w0.50", "write the width as _w0.5"},
                    BadName{"resnet18_w00.5", "write the width as _w0.5"},
                    BadName{"resnet18_w0.05", "within [0.1, 4]"},
                    BadName{"resnet18_w5", "within [0.1, 4]"},
                    BadName{"resnet18_p50", "needs a seed: add _s<seed>"},
                    BadName{"resnet18_p96_s1", "within 0..95"},
                    BadName{"resnet18_p050_s1", "without leading zeros"},
                    BadName{"resnet18_p5.5_s1", "whole percent"},
                    BadName{"resnet18_p-5_s1", "whole percent"},
                    BadName{"resnet18_p50_p60_s1", "comes once"},
                    BadName{"resnet18_s1", "must follow a level"},
                    BadName{"resnet18_p50_s1_s2", "must follow a level"},
                    BadName{"resnet18_p50_s01", "without leading zeros"},
                    BadName{"resnet18_p50_s18446744073709551616", "unsigned integer"},
                    BadName{"resnet18_p0_s3", "level 0 is the unpruned network: write \"resnet18\""},
                    BadName{"resnet18_cifar10_w0.5_p0_s3", "write \"resnet18_cifar10_w0.5\""}));

// Found by fuzzing: control characters in a name broke the one-line message. And names far
// longer than any network's are refused without being split, their message kept short.
TEST(NetworkName, ErrorsAreOneLineAndAbsurdNamesCostNothing) {
  try {
    parse_network_name("_p1_\r\n\x7f_s3");
    FAIL();
  } catch (const NetworkNameError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("\"_p1_\\x0d\\x0a\\x7f_s3\": the name must start with a family id", 0), 0u)
        << e.what();
  }
  try {
    parse_network_name("resnet18_\n");
    FAIL();
  } catch (const NetworkNameError& e) {
    EXPECT_EQ(e.problem(), "unknown part \"_\\x0a\": expected _cifar10, _cifar100, _w<width>, or _p<level>_s<seed>");
  }
  const std::string longest = "shufflenetv2x0.5_cifar100_w0.125_p95_s18446744073709551615";
  EXPECT_EQ(network_name(parse_network_name(longest)), longest);
  ASSERT_LE(longest.size(), kMaxNetworkNameLength);
  const std::string absurd = "resnet18" + std::string(10'000'000, '_');
  try {
    parse_network_name(absurd);
    FAIL();
  } catch (const NetworkNameError& e) {
    const std::string what = e.what();
    EXPECT_LT(what.size(), 250u) << what;
    EXPECT_NE(what.find("the name is 10000008 characters long; no network's name has more than 96"),
              std::string::npos) << what;
  }
  EXPECT_FALSE(builtin_network(absurd).has_value());
}

TEST(BuiltinNetwork, ByNameOrNothing) {
  const std::optional<NetSpec> spec = builtin_network("resnet18_cifar100_w0.5_p30_s2");
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->name, "resnet18_cifar100_w0.5_p30_s2");
  EXPECT_EQ(spec->classes, 100);
  EXPECT_FALSE(builtin_network("resnet18_30").has_value());
  EXPECT_THROW(make_builtin_network("resnet18_30"), NetworkNameError);
}

TEST(BuiltinNetwork, PruningSeedDependsOnEveryPart) {
  const NetworkId base{"resnet18", Dataset::kImageNet, 1000, 50, 1};
  std::vector<NetworkId> ids = {base};
  NetworkId v = base;
  v.family = "resnet34";
  ids.push_back(v);
  v = base;
  v.dataset = Dataset::kCifar10;
  ids.push_back(v);
  v.dataset = Dataset::kCifar100;
  ids.push_back(v);
  v = base;
  v.width_permille = 500;
  ids.push_back(v);
  v = base;
  v.prune_percent = 55;
  ids.push_back(v);
  v = base;
  v.seed = 2;
  ids.push_back(v);
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t j = i + 1; j < ids.size(); ++j)
      EXPECT_NE(pruning_rng_seed(ids[i]), pruning_rng_seed(ids[j])) << network_name(ids[i]) << " "
                                                                     << network_name(ids[j]);
  // A fixed value: the seed must never change between versions or platforms.
  EXPECT_EQ(pruning_rng_seed(base), pruning_rng_seed(parse_network_name("resnet18_p50_s1")));
}

}  // namespace
}  // namespace p4s::modelgen

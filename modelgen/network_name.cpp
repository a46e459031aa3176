#include "modelgen/network_name.hpp"

#include <vector>

#include "common/number_text.hpp"
#include "common/input_error.hpp"

namespace p4s::modelgen {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// A canonical unsigned integer: digits only, no leading zero (a name has one spelling), fits in
// uint64.
std::optional<uint64_t> parse_uint(std::string_view s) {
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  return parse_integer<uint64_t>(s);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string known_families() {
  std::string out;
  for (const Family& f : families()) out += (out.empty() ? "" : ", ") + std::string(f.id);
  return out;
}

[[noreturn]] void refuse(std::string_view name, const std::string& problem) {
  throw NetworkNameError(name, problem);
}

}  // namespace

NetworkNameError::NetworkNameError(std::string_view name, const std::string& problem)
    : InputError("\"" +
                     (name.size() > kMaxNetworkNameLength ? std::string(name.substr(0, kMaxNetworkNameLength)) + "..."
                                                          : std::string(name)) +
                     "\"",
                 "", problem) {}

std::optional<int> parse_width_permille(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (!all_digits(whole) || whole.size() > 4) return std::nullopt;
  if (dot != std::string_view::npos && (!all_digits(frac) || frac.size() > 3)) return std::nullopt;
  int v = 0;
  for (char c : whole) v = v * 10 + (c - '0');
  int f = 0;
  for (size_t i = 0; i < 3; ++i) f = f * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  return v * 1000 + f;
}

std::string format_width(int width_permille) {
  std::string s = std::to_string(width_permille / 1000);
  int frac = width_permille % 1000;
  if (frac == 0) return s;
  std::string digits = std::to_string(frac);
  digits.insert(0, 3 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  return s + "." + digits;
}

std::string network_name(const NetworkId& id) {
  if (!find_family(id.family))
    throw std::invalid_argument("unknown family \"" + id.family + "\" (known: " + known_families() + ")");
  if (id.width_permille < kMinWidthPermille || id.width_permille > kMaxWidthPermille)
    throw std::invalid_argument("width " + format_width(id.width_permille) + " is outside [0.1, 4]");
  if (id.prune_percent < 0 || id.prune_percent > kMaxPrunePercent)
    throw std::invalid_argument("pruning level " + std::to_string(id.prune_percent) +
                                " is outside 0..95 (percent of parameters removed)");
  std::string name = id.family;
  if (id.dataset != Dataset::kImageNet) name += "_" + std::string(dataset_tag(id.dataset));
  if (id.width_permille != kDefaultWidthPermille) name += "_w" + format_width(id.width_permille);
  if (id.prune_percent > 0)
    name += "_p" + std::to_string(id.prune_percent) + "_s" + std::to_string(id.seed);
  return name;
}

NetworkId parse_network_name(std::string_view name) {
  if (name.empty()) refuse(name, "the name is empty");
  if (name.size() > kMaxNetworkNameLength)
    refuse(name, "the name is " + std::to_string(name.size()) + " characters long; no network's name has more than " +
                     std::to_string(kMaxNetworkNameLength));
  const std::vector<std::string_view> parts = split(name, '_');
  NetworkId id;
  id.family = std::string(parts[0]);
  if (id.family.empty()) refuse(name, "the name must start with a family id (" + known_families() + ")");
  if (!find_family(id.family))
    refuse(name, "unknown family \"" + id.family + "\" (known: " + known_families() + ")");

  // Parts must come in this order, each at most once.
  enum Stage { kFamily, kDatasetPart, kWidthPart, kLevelPart, kSeedPart };
  Stage stage = kFamily;
  bool seen_seed = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    const std::string shown = "_" + std::string(part);
    if (part.empty()) refuse(name, "empty part: two '_' in a row, or a trailing '_'");
    if (part == "cifar10" || part == "cifar100") {
      if (stage >= kDatasetPart)
        refuse(name, shown + " must come right after the family id (order: dataset, width, level, seed)");
      id.dataset = part == "cifar10" ? Dataset::kCifar10 : Dataset::kCifar100;
      stage = kDatasetPart;
    } else if (part[0] == 'w') {
      if (stage >= kWidthPart)
        refuse(name, shown + " is out of place: the width comes once, before _p<level>_s<seed>");
      const std::optional<int> w = parse_width_permille(part.substr(1));
      if (!w) refuse(name, shown + ": the width must be a decimal number with at most 3 decimals, e.g. _w0.5");
      if (*w < kMinWidthPermille || *w > kMaxWidthPermille)
        refuse(name, shown + ": the width must be within [0.1, 4]");
      if (*w == kDefaultWidthPermille) refuse(name, shown + ": width 1 is the default, leave the part out");
      if (part.substr(1) != format_width(*w))
        refuse(name, shown + ": write the width as _w" + format_width(*w));
      id.width_permille = *w;
      stage = kWidthPart;
    } else if (part[0] == 'p') {
      if (stage >= kLevelPart) refuse(name, shown + ": the level comes once, before the seed");
      const std::optional<uint64_t> level = parse_uint(part.substr(1));
      if (!level) refuse(name, shown + ": the level must be a whole percent without leading zeros, e.g. _p50");
      if (*level > static_cast<uint64_t>(kMaxPrunePercent))
        refuse(name, shown + ": the level must be within 0..95 (percent of parameters removed)");
      id.prune_percent = static_cast<int>(*level);
      stage = kLevelPart;
    } else if (part[0] == 's') {
      if (stage != kLevelPart) refuse(name, shown + ": the seed must follow a level, as in _p50_s1");
      const std::optional<uint64_t> seed = parse_uint(part.substr(1));
      if (!seed) refuse(name, shown + ": the seed must be an unsigned integer without leading zeros, e.g. _s1");
      id.seed = *seed;
      seen_seed = true;
      stage = kSeedPart;
    } else {
      refuse(name, "unknown part \"" + shown + "\": expected _cifar10, _cifar100, _w<width>, or _p<level>_s<seed>");
    }
  }
  if (stage == kLevelPart && !seen_seed)
    refuse(name, "_p" + std::to_string(id.prune_percent) + " needs a seed: add _s<seed>");
  if (seen_seed && id.prune_percent == 0) {
    NetworkId unpruned = id;
    unpruned.seed = 0;
    refuse(name, "level 0 is the unpruned network: write \"" + network_name(unpruned) + "\"");
  }
  return id;
}

}  // namespace p4s::modelgen

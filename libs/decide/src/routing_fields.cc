#include "leadrouter/decide/routing_fields.h"

#include <charconv>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace leadrouter::decide {
namespace {

// The integer `text`, or nullopt when it is not one (an empty field is not a number either).
std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<routing::RoutingState> StateFromFields(
    const std::map<std::string, std::string>& fields) {
  routing::RoutingState state;
  for (const auto& [field, value] : fields) {
    const std::vector<std::string> parts = absl::StrSplit(field, ':');
    absl::Status status;
    auto read = [&field = field, &value = value](int64_t& target) -> absl::Status {
      std::optional<int64_t> parsed = ParseInt(value);
      if (!parsed) {
        return absl::DataLossError(
            absl::StrCat("routing state field \"", field, "\" is not an integer: \"", value, "\""));
      }
      target = *parsed;
      return absl::OkStatus();
    };
    auto read_optional = [&read](std::optional<int64_t>& target) -> absl::Status {
      int64_t parsed = 0;
      absl::Status status = read(parsed);
      if (status.ok()) target = parsed;
      return status;
    };
    if (parts.size() == 3 && parts[0] == "rep") {
      routing::RepCounters& rep = state.reps[parts[1]];
      const std::string& name = parts[2];
      if (name == "open") {
        status = read(rep.open_leads);
      } else if (name == "day") {
        rep.day = value;
      } else if (name == "day_count") {
        status = read(rep.assigned_on_day);
      } else if (name == "recent_assigned") {
        status = read(rep.recent_assigned);
      } else if (name == "recent_converted") {
        status = read(rep.recent_converted);
      } else if (name == "paused") {
        if (value != "0" && value != "1") {
          return absl::DataLossError(
              absl::StrCat("routing state field \"", field, "\" is not 0 or 1: \"", value, "\""));
        }
        rep.paused = value == "1";
      } else if (name == "max_open_override") {
        status = read_optional(rep.max_open_override);
      } else if (name == "daily_cap_override") {
        status = read_optional(rep.daily_cap_override);
      } else if (name == "ooo") {
        // "from_s-to_s,from_s-to_s": windows added through AdminService.SetAvailability.
        for (absl::string_view window : absl::StrSplit(value, ',', absl::SkipEmpty())) {
          const std::vector<std::string> ends = absl::StrSplit(window, '-');
          std::optional<int64_t> from = ends.size() == 2 ? ParseInt(ends[0]) : std::nullopt;
          std::optional<int64_t> to = ends.size() == 2 ? ParseInt(ends[1]) : std::nullopt;
          if (!from || !to) {
            return absl::DataLossError(absl::StrCat("routing state field \"", field,
                                                    "\" has a malformed window: \"", value, "\""));
          }
          rep.extra_out_of_office.push_back({core::TimePoint(std::chrono::seconds(*from)),
                                             core::TimePoint(std::chrono::seconds(*to))});
        }
      }
    } else if (parts.size() == 3 && parts[0] == "pool" && parts[2] == "step") {
      status = read(state.pools[parts[1]].step);
    } else if (parts.size() == 3 && parts[0] == "pool" && parts[2] == "present") {
      state.pools[parts[1]].present = value;  // the present set's signature (routing::Engine)
    } else if (parts.size() == 4 && parts[0] == "pool" && parts[2] == "credit") {
      status = read(state.pools[parts[1]].credit[parts[3]]);
    } else if (parts.size() == 4 && parts[0] == "pool" && parts[2] == "count") {
      status = read(state.pools[parts[1]].count[parts[3]]);
    }
    if (!status.ok()) return status;
  }
  return state;
}

std::map<std::string, std::string> FieldsFromState(const routing::RoutingState& state) {
  std::map<std::string, std::string> fields;
  for (const auto& [id, rep] : state.reps) {
    const std::string prefix = absl::StrCat(RepScope(id), ":");
    fields[prefix + "open"] = std::to_string(rep.open_leads);
    if (!rep.day.empty()) fields[prefix + "day"] = rep.day;
    fields[prefix + "day_count"] = std::to_string(rep.assigned_on_day);
    fields[prefix + "recent_assigned"] = std::to_string(rep.recent_assigned);
    fields[prefix + "recent_converted"] = std::to_string(rep.recent_converted);
    fields[prefix + "paused"] = std::string(rep.paused ? "1" : "0");
    if (rep.max_open_override) {
      fields[prefix + "max_open_override"] = std::to_string(*rep.max_open_override);
    }
    if (rep.daily_cap_override) {
      fields[prefix + "daily_cap_override"] = std::to_string(*rep.daily_cap_override);
    }
    if (!rep.extra_out_of_office.empty()) {
      std::string windows;
      for (const routing::Absence& a : rep.extra_out_of_office) {
        auto seconds = [](core::TimePoint t) {
          return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
        };
        absl::StrAppend(&windows, windows.empty() ? "" : ",", seconds(a.from), "-", seconds(a.to));
      }
      fields[prefix + "ooo"] = windows;
    }
  }
  for (const auto& [name, pool] : state.pools) {
    const std::string prefix = absl::StrCat(PoolScope(name), ":");
    fields[prefix + "step"] = std::to_string(pool.step);
    if (!pool.present.empty()) fields[prefix + "present"] = pool.present;
    for (const auto& [rep, credit] : pool.credit) {
      fields[absl::StrCat(prefix, "credit:", rep)] = std::to_string(credit);
    }
    for (const auto& [rep, count] : pool.count) {
      fields[absl::StrCat(prefix, "count:", rep)] = std::to_string(count);
    }
  }
  return fields;
}

// The fields of `after` that differ from `before`: what a commit must write.
std::map<std::string, std::string> ChangedFields(const std::map<std::string, std::string>& before,
                                                 const routing::RoutingState& after) {
  std::map<std::string, std::string> changed;
  for (auto& [field, value] : FieldsFromState(after)) {
    auto it = before.find(field);
    if (it == before.end() ? value != "0" : it->second != value) changed[field] = value;
  }
  return changed;
}

std::string PoolScope(const std::string& pool) {
  return absl::StrCat("pool:", pool);
}
std::string RepScope(const std::string& rep_id) {
  return absl::StrCat("rep:", rep_id);
}

}  // namespace leadrouter::decide

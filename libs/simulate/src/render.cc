#include "leadrouter/simulate/render.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace leadrouter::simulate {
namespace {

// Appends the UTF-8 code points of `text`, invalid sequences replaced by U+FFFD; `emit` gets
// each code point's bytes and value.
template <typename Emit>
void ForEachCodePoint(const std::string& text, Emit emit) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
      min = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (s[i + k] & 0x3F);
      }
    }
    if (ok && len > 1 && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
      ok = false;
    }
    if (!ok) {
      emit(std::string("\xEF\xBF\xBD"), 0xFFFDu);
      ++i;
      continue;
    }
    emit(text.substr(i, len), cp);
    i += len;
  }
}

size_t DisplayWidth(const std::string& text) {
  size_t w = 0;
  ForEachCodePoint(text, [&](const std::string&, uint32_t) { ++w; });
  return w;
}

// For the terminal: valid UTF-8, control characters (escape sequences) shown as '?'.
std::string Plain(const std::string& text) {
  std::string out;
  ForEachCodePoint(text, [&](const std::string& bytes, uint32_t cp) {
    out += (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) ? std::string("?") : bytes;
  });
  return out;
}

std::string Fixed(double v, int decimals = 2) {
  if (!std::isfinite(v)) v = 0;
  return absl::StrFormat("%.*f", decimals, v);
}

std::string Signed(double v) {
  if (!std::isfinite(v)) v = 0;
  return absl::StrFormat("%+.2f", v);
}

std::string Percent(double share) {
  return absl::StrFormat("%.1f%%", share * 100.0);
}

std::string Or(const std::string& s, const char* fallback) {
  return s.empty() ? fallback : s;
}

// A plain-text table; the last column is not padded. right[i]: right-align column i.
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& right) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], DisplayWidth(Plain(r[i])));
    }
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  auto line = [&](const std::vector<std::string>& r) {
    std::string out = "  ";
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      const std::string cell = Plain(r[i]);
      const bool last = i + 1 == r.size();
      const std::string pad(width[i] - DisplayWidth(cell), ' ');
      if (i < right.size() && right[i]) {
        absl::StrAppend(&out, pad, cell);
      } else {
        absl::StrAppend(&out, cell, last ? "" : pad);
      }
      if (!last) out += "  ";
    }
    out += "\n";
    return out;
  };
  std::string out = line(header);
  for (const auto& r : rows) out += line(r);
  return out;
}

std::string Counts(const std::map<std::string, int64_t>& m) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : m) parts.push_back(absl::StrCat(k, " ", v));
  return absl::StrJoin(parts, ", ");
}

// ---- JSON ----

class Json {
 public:
  std::string out;
  void Key(const std::string& k) {
    Comma();
    out += JsonQuote(k);
    out += ':';
    after_key_ = true;
  }
  void Str(const std::string& v) { Value(JsonQuote(v)); }
  void Int(int64_t v) { Value(absl::StrCat(v)); }
  void Num(double v) { Value(Fixed(v, 4)); }
  void Bool(bool v) { Value(v ? "true" : "false"); }
  void Open(char c) {
    Value(std::string(1, c));
    first_ = true;
  }
  void Close(char c) {
    out += c;
    first_ = false;
  }

 private:
  void Comma() {
    if (!first_) out += ',';
    first_ = false;
  }
  void Value(const std::string& v) {
    if (!after_key_) Comma();
    after_key_ = false;
    out += v;
    first_ = false;
  }
  bool first_ = true;
  bool after_key_ = false;
};

void CountsJson(Json& j, const std::map<std::string, int64_t>& m) {
  j.Open('{');
  for (const auto& [k, v] : m) {
    j.Key(k);
    j.Int(v);
  }
  j.Close('}');
}

void DiffJson(Json& j, const Diff& diff) {
  j.Open('{');
  j.Key("baseline_version");
  j.Str(diff.baseline_version);
  j.Key("candidate_version");
  j.Str(diff.candidate_version);
  j.Key("reps");
  j.Open('[');
  for (const RepDelta& d : diff.reps) {
    j.Open('{');
    j.Key("rep_id");
    j.Str(d.rep_id);
    j.Key("name");
    j.Str(d.name);
    j.Key("baseline");
    j.Int(d.baseline);
    j.Key("candidate");
    j.Int(d.candidate);
    j.Key("delta");
    j.Int(d.delta);
    j.Close('}');
  }
  j.Close(']');
  j.Key("changed");
  j.Int(diff.changed);
  j.Key("sample_limit");
  j.Int(static_cast<int64_t>(diff.sample_limit));
  j.Key("sample");
  j.Open('[');
  for (const OwnerChange& c : diff.sample) {
    j.Open('{');
    j.Key("line");
    j.Int(c.line);
    j.Key("event_id");
    j.Str(c.event_id);
    j.Key("baseline_outcome");
    j.Str(c.baseline_outcome);
    j.Key("candidate_outcome");
    j.Str(c.candidate_outcome);
    j.Key("baseline_rep");
    j.Str(c.baseline_rep);
    j.Key("candidate_rep");
    j.Str(c.candidate_rep);
    j.Key("baseline_reason");
    j.Str(c.baseline_reason);
    j.Key("candidate_reason");
    j.Str(c.candidate_reason);
    j.Close('}');
  }
  j.Close(']');
  j.Close('}');
}

// ---- HTML / SVG ----

constexpr int kChartWidth = 760;
constexpr int kLabelWidth = 200;
constexpr int kBarArea = kChartWidth - kLabelWidth - 90;

double Scale(double value, double max) {
  return max <= 0 ? 0 : value / max * kBarArea;
}

std::string SvgText(double x, double y, const std::string& text, const char* anchor = "start") {
  return absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", x, y, anchor,
                         HtmlEscape(text));
}

std::string SvgRect(double x, double y, double w, double h, const char* fill,
                    const std::string& title) {
  return absl::StrFormat(
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s</title>"
      "</rect>",
      x, y, std::max(0.0, w), h, fill, HtmlEscape(title));
}

std::string SvgOpen(int height, const std::string& label) {
  return absl::StrFormat(
      "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "role=\"img\" aria-label=\"%s\">",
      kChartWidth, height, kChartWidth, height, HtmlEscape(label));
}

std::string RepsChart(const Report& r) {
  double max = 1;
  for (const RepRow& rep : r.reps)
    max = std::max({max, static_cast<double>(rep.leads), rep.target});
  const int row = 30;
  const int height = static_cast<int>(r.reps.size()) * row + 30;
  std::string svg = SvgOpen(height, "leads per rep vs target");
  for (size_t i = 0; i < r.reps.size(); ++i) {
    const RepRow& rep = r.reps[i];
    const double y = static_cast<double>(i) * row + 6;
    svg += SvgText(kLabelWidth - 8, y + 15, rep.name, "end");
    svg += SvgRect(kLabelWidth, y, Scale(static_cast<double>(rep.leads), max), 20, "#3b6fb6",
                   absl::StrCat(rep.name, ": ", rep.leads, " leads"));
    const double tx = kLabelWidth + Scale(rep.target, max);
    svg += absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d1495b\" "
        "stroke-width=\"3\"><title>target %s</title></line>",
        tx, y - 3, tx, y + 23, HtmlEscape(Fixed(rep.target)));
    svg +=
        SvgText(kLabelWidth + Scale(std::max(static_cast<double>(rep.leads), rep.target), max) + 8,
                y + 15, absl::StrCat(rep.leads, " / target ", Fixed(rep.target, 1)));
  }
  const double ly = static_cast<double>(r.reps.size()) * row + 20;
  svg += SvgRect(kLabelWidth, ly - 10, 12, 12, "#3b6fb6", "leads");
  svg += SvgText(kLabelWidth + 18, ly, "leads");
  svg += SvgRect(kLabelWidth + 80, ly - 12, 3, 16, "#d1495b", "target");
  svg += SvgText(kLabelWidth + 90, ly, "target (weighted share of each pool's leads + direct)");
  svg += "</svg>";
  return svg;
}

std::string OutcomeChart(const Report& r) {
  const std::vector<std::pair<std::string, int64_t>> items = {
      {"assigned", r.counts.assigned},    {"unassigned", r.counts.unassigned},
      {"nurture", r.counts.nurture},      {"disqualified", r.counts.disqualified},
      {"duplicate", r.counts.duplicates}, {"replayed", r.counts.replayed},
      {"invalid", r.counts.invalid}};
  const char* colors[] = {"#2e8b57", "#e09f3e", "#5fa8d3", "#9e2a2b",
                          "#8d99ae", "#b8b8d1", "#6d597a"};
  double max = 1;
  for (const auto& [name, n] : items) max = std::max(max, static_cast<double>(n));
  const int row = 28;
  std::string svg = SvgOpen(static_cast<int>(items.size()) * row + 8, "outcome breakdown");
  for (size_t i = 0; i < items.size(); ++i) {
    const double y = static_cast<double>(i) * row + 4;
    svg += SvgText(kLabelWidth - 8, y + 15, items[i].first, "end");
    svg += SvgRect(kLabelWidth, y, Scale(static_cast<double>(items[i].second), max), 20, colors[i],
                   absl::StrCat(items[i].first, ": ", items[i].second));
    svg += SvgText(kLabelWidth + Scale(static_cast<double>(items[i].second), max) + 8, y + 15,
                   absl::StrCat(items[i].second));
  }
  svg += "</svg>";
  return svg;
}

std::string DiffChart(const Diff& d) {
  double max = 1;
  for (const RepDelta& r : d.reps) {
    max = std::max({max, static_cast<double>(r.baseline), static_cast<double>(r.candidate)});
  }
  const int row = 44;
  const int height = static_cast<int>(d.reps.size()) * row + 30;
  std::string svg = SvgOpen(height, "baseline vs candidate per rep");
  for (size_t i = 0; i < d.reps.size(); ++i) {
    const RepDelta& r = d.reps[i];
    const double y = static_cast<double>(i) * row + 6;
    svg += SvgText(kLabelWidth - 8, y + 20, r.name, "end");
    svg += SvgRect(kLabelWidth, y, Scale(static_cast<double>(r.baseline), max), 16, "#adb5bd",
                   absl::StrCat("baseline: ", r.baseline));
    svg += SvgText(kLabelWidth + Scale(static_cast<double>(r.baseline), max) + 8, y + 13,
                   absl::StrCat(r.baseline));
    svg += SvgRect(kLabelWidth, y + 18, Scale(static_cast<double>(r.candidate), max), 16, "#3b6fb6",
                   absl::StrCat("candidate: ", r.candidate));
    svg += SvgText(kLabelWidth + Scale(static_cast<double>(r.candidate), max) + 8, y + 31,
                   absl::StrCat(r.candidate, " (", r.delta >= 0 ? "+" : "", r.delta, ")"));
  }
  const double ly = static_cast<double>(d.reps.size()) * row + 20;
  svg += SvgRect(kLabelWidth, ly - 10, 12, 12, "#adb5bd", "baseline");
  svg += SvgText(kLabelWidth + 18, ly, "baseline");
  svg += SvgRect(kLabelWidth + 100, ly - 10, 12, 12, "#3b6fb6", "candidate");
  svg += SvgText(kLabelWidth + 118, ly, "candidate");
  svg += "</svg>";
  return svg;
}

std::string HtmlTable(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows,
                      const std::vector<bool>& right) {
  std::string out = "<table><thead><tr>";
  for (const auto& h : header) absl::StrAppend(&out, "<th>", HtmlEscape(h), "</th>");
  out += "</tr></thead><tbody>";
  for (const auto& r : rows) {
    out += "<tr>";
    for (size_t i = 0; i < r.size(); ++i) {
      absl::StrAppend(&out, i < right.size() && right[i] ? "<td class=\"n\">" : "<td>",
                      HtmlEscape(r[i]), "</td>");
    }
    out += "</tr>";
  }
  out += "</tbody></table>";
  return out;
}

// Rows shared by the three renderers' tables.
std::vector<std::vector<std::string>> RepRows(const Report& r) {
  std::vector<std::vector<std::string>> rows;
  for (const RepRow& rep : r.reps) {
    rows.push_back({rep.id, rep.name, absl::StrCat(rep.leads), Fixed(rep.target),
                    Signed(static_cast<double>(rep.leads) - rep.target), absl::StrCat(rep.direct),
                    absl::StrCat(rep.skipped_daily_cap), absl::StrCat(rep.skipped_max_open),
                    absl::StrCat(rep.skipped_out_of_office), absl::StrCat(rep.skipped_off_hours),
                    absl::StrCat(rep.skipped_other)});
  }
  return rows;
}
const std::vector<std::string> kRepHeader = {"rep",
                                             "name",
                                             "leads",
                                             "target",
                                             "deviation",
                                             "direct",
                                             "skip: daily cap",
                                             "skip: max open",
                                             "skip: out of office",
                                             "skip: off hours",
                                             "skip: other"};
const std::vector<bool> kRepRight = {false, false, true, true, true, true,
                                     true,  true,  true, true, true};

std::vector<std::vector<std::string>> ShareRows(const Report& r) {
  std::vector<std::vector<std::string>> rows;
  for (const RepRow& rep : r.reps) {
    for (const PoolShare& s : rep.pools) {
      rows.push_back({s.pool, rep.id, absl::StrCat(s.weight, "/", s.pool_weight),
                      Percent(s.target_share), absl::StrCat(s.leads), Fixed(s.expected),
                      Signed(s.deviation)});
    }
  }
  return rows;
}
const std::vector<std::string> kShareHeader = {"pool",  "rep",      "weight",   "target share",
                                               "leads", "expected", "deviation"};
const std::vector<bool> kShareRight = {false, false, true, true, true, true, true};

std::vector<std::vector<std::string>> PoolRows(const Report& r) {
  std::vector<std::vector<std::string>> rows;
  for (const PoolRow& p : r.pools) {
    rows.push_back({p.name, p.strategy, absl::StrCat(p.leads), absl::StrCat(p.via_overflow),
                    absl::StrCat(p.nobody_eligible), absl::StrJoin(p.members, ", ")});
  }
  return rows;
}
const std::vector<std::string> kPoolHeader = {"pool",         "strategy",        "leads",
                                              "via overflow", "nobody eligible", "members"};
const std::vector<bool> kPoolRight = {false, false, true, true, true, false};

std::vector<std::vector<std::string>> TerritoryRows(const Report& r) {
  std::vector<std::vector<std::string>> rows;
  for (const TerritoryRow& t : r.territories) {
    rows.push_back({t.name, t.pool, t.catch_all ? "yes" : "", absl::StrCat(t.leads),
                    absl::StrCat(t.assigned)});
  }
  return rows;
}
const std::vector<std::string> kTerritoryHeader = {"territory", "pool", "catch-all", "leads",
                                                   "assigned"};
const std::vector<bool> kTerritoryRight = {false, false, false, true, true};

std::vector<std::string> LeadCells(const LeadRow& l) {
  return {absl::StrCat(l.line),
          Or(l.event_id, "-"),
          LeadOutcomeName(l.outcome),
          Or(l.rep_id, "-"),
          Or(l.territory, "-"),
          Or(l.pool, "-"),
          l.reason};
}
const std::vector<std::string> kLeadHeader = {"line",      "event id", "outcome", "rep",
                                              "territory", "pool",     "reason"};
const std::vector<bool> kLeadRight = {true, false, false, false, false, false, false};

std::vector<std::vector<std::string>> DeltaRows(const Diff& d) {
  std::vector<std::vector<std::string>> rows;
  for (const RepDelta& r : d.reps) {
    rows.push_back({r.rep_id, r.name, absl::StrCat(r.baseline), absl::StrCat(r.candidate),
                    absl::StrCat(r.delta > 0 ? "+" : "", r.delta)});
  }
  return rows;
}
const std::vector<std::string> kDeltaHeader = {"rep", "name", "baseline", "candidate", "change"};
const std::vector<bool> kDeltaRight = {false, false, true, true, true};

std::vector<std::vector<std::string>> ChangeRows(const Diff& d) {
  std::vector<std::vector<std::string>> rows;
  for (const OwnerChange& c : d.sample) {
    rows.push_back({absl::StrCat(c.line), c.event_id,
                    absl::StrCat(c.baseline_outcome, " ", Or(c.baseline_rep, "-")),
                    absl::StrCat(c.candidate_outcome, " ", Or(c.candidate_rep, "-")),
                    absl::StrCat("before: ", c.baseline_reason, " | after: ", c.candidate_reason)});
  }
  return rows;
}
const std::vector<std::string> kChangeHeader = {"line", "event id", "baseline", "candidate", "why"};
const std::vector<bool> kChangeRight = {true, false, false, false, false};

std::string TerritorySummary(const Report& r) {
  return absl::StrCat(
      "fell to a catch-all: ", r.fell_to_catch_all,
      "; matched no territory: ", r.matched_no_territory,
      "; bypassed territories (rep-sourced / account owner): ", r.bypassed_territories);
}

std::string OutcomeLine(const OutcomeCounts& c) {
  std::string line =
      absl::StrCat("assigned ", c.assigned, ", unassigned ", c.unassigned, ", nurture ", c.nurture,
                   ", disqualified ", c.disqualified, ", duplicate ", c.duplicates, ", replayed ",
                   c.replayed, ", invalid ", c.invalid, " (", c.lines, " lines)");
  if (c.account_owner > 0) {
    absl::StrAppend(&line, "\n  of the assigned, to their account's owner: ", c.account_owner);
  }
  if (c.returned + c.expired + c.rerouted + c.recycled > 0) {
    absl::StrAppend(&line, "\n  afterwards: returned ", c.returned, ", expired ", c.expired,
                    ", re-routed to a rep ", c.rerouted, ", recycled ", c.recycled);
  }
  return line;
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  ForEachCodePoint(text, [&](const std::string& bytes, uint32_t cp) {
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F) {
          out += "\xEF\xBF\xBD";  // not allowed in HTML text
        } else {
          out += bytes;
        }
    }
  });
  return out;
}

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  ForEachCodePoint(text, [&](const std::string& bytes, uint32_t cp) {
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (cp < 0x20 || cp == 0x7F || cp == 0x2028 || cp == 0x2029) {
          out += absl::StrFormat("\\u%04x", cp);
        } else {
          out += bytes;
        }
    }
  });
  out += '"';
  return out;
}

std::string RenderText(const Report& r, const Diff* diff, size_t max_leads) {
  std::string out =
      absl::StrCat("leadrouter simulate: config ", Or(r.config_version, "(unversioned)"), "\n\n");
  absl::StrAppend(&out, "Outcomes\n  ", OutcomeLine(r.counts), "\n");
  if (!r.counts.disqualified_by_reason.empty()) {
    absl::StrAppend(
        &out, "  disqualified by reason: ", Plain(Counts(r.counts.disqualified_by_reason)), "\n");
  }
  if (!r.counts.invalid_by_reason.empty()) {
    absl::StrAppend(&out, "  invalid by reason: ", Counts(r.counts.invalid_by_reason), "\n");
  }
  if (r.claims_owned > 0) {
    absl::StrAppend(&out, "  what-if claims: ", r.claims_owned,
                    " account(s) owned by the claiming rep from the first lead on\n");
  }
  if (r.clock_went_backwards > 0) {
    absl::StrAppend(&out, "  note: ", r.clock_went_backwards,
                    " lead(s) occurred before the previous one; file order was kept\n");
  }
  absl::StrAppend(&out,
                  "\nReps (target = weighted share of each pool's leads + direct leads; "
                  "skips are per candidate check)\n",
                  Table(kRepHeader, RepRows(r), kRepRight));
  absl::StrAppend(&out, "\nPool shares\n", Table(kShareHeader, ShareRows(r), kShareRight));
  absl::StrAppend(&out, "\nPools\n", Table(kPoolHeader, PoolRows(r), kPoolRight));
  absl::StrAppend(&out, "\nTerritories\n");
  if (!r.territories.empty()) out += Table(kTerritoryHeader, TerritoryRows(r), kTerritoryRight);
  absl::StrAppend(&out, "  ", TerritorySummary(r), "\n");

  std::vector<std::vector<std::string>> leads;
  for (size_t i = 0; i < r.leads.size() && i < max_leads; ++i)
    leads.push_back(LeadCells(r.leads[i]));
  absl::StrAppend(&out, "\nLeads",
                  r.leads.size() > max_leads ? absl::StrCat(" (first ", max_leads, " of ",
                                                            r.leads.size(), "; --json has all)")
                                             : std::string(),
                  "\n", Table(kLeadHeader, leads, kLeadRight));

  if (diff != nullptr) {
    absl::StrAppend(&out, "\nDiff: baseline ", Or(diff->baseline_version, "?"), " -> candidate ",
                    Or(diff->candidate_version, "?"), "\n",
                    Table(kDeltaHeader, DeltaRows(*diff), kDeltaRight));
    absl::StrAppend(&out, "  ", diff->changed, " lead(s) changed outcome or owner",
                    diff->changed > static_cast<int64_t>(diff->sample.size())
                        ? absl::StrCat("; first ", diff->sample.size(), " shown")
                        : std::string(),
                    "\n");
    if (!diff->sample.empty()) out += Table(kChangeHeader, ChangeRows(*diff), kChangeRight);
  }
  return out;
}

std::string RenderJson(const Report& r, const Diff* diff) {
  Json j;
  j.Open('{');
  j.Key("config_version");
  j.Str(r.config_version);
  j.Key("counts");
  j.Open('{');
  const std::vector<std::pair<const char*, int64_t>> counts = {
      {"lines", r.counts.lines},
      {"assigned", r.counts.assigned},
      {"unassigned", r.counts.unassigned},
      {"nurture", r.counts.nurture},
      {"disqualified", r.counts.disqualified},
      {"duplicates", r.counts.duplicates},
      {"replayed", r.counts.replayed},
      {"invalid", r.counts.invalid},
      {"account_owner", r.counts.account_owner},
      {"returned", r.counts.returned},
      {"expired", r.counts.expired},
      {"rerouted", r.counts.rerouted},
      {"recycled", r.counts.recycled}};
  for (const auto& [k, v] : counts) {
    j.Key(k);
    j.Int(v);
  }
  j.Key("disqualified_by_reason");
  CountsJson(j, r.counts.disqualified_by_reason);
  j.Key("invalid_by_reason");
  CountsJson(j, r.counts.invalid_by_reason);
  j.Close('}');

  j.Key("reps");
  j.Open('[');
  for (const RepRow& rep : r.reps) {
    j.Open('{');
    j.Key("id");
    j.Str(rep.id);
    j.Key("name");
    j.Str(rep.name);
    j.Key("leads");
    j.Int(rep.leads);
    j.Key("direct");
    j.Int(rep.direct);
    j.Key("target");
    j.Num(rep.target);
    j.Key("pools");
    j.Open('[');
    for (const PoolShare& s : rep.pools) {
      j.Open('{');
      j.Key("pool");
      j.Str(s.pool);
      j.Key("weight");
      j.Int(s.weight);
      j.Key("pool_weight");
      j.Int(s.pool_weight);
      j.Key("target_share");
      j.Num(s.target_share);
      j.Key("leads");
      j.Int(s.leads);
      j.Key("expected");
      j.Num(s.expected);
      j.Key("deviation");
      j.Num(s.deviation);
      j.Close('}');
    }
    j.Close(']');
    const std::vector<std::pair<const char*, int64_t>> skips = {
        {"skipped_daily_cap", rep.skipped_daily_cap},
        {"skipped_max_open", rep.skipped_max_open},
        {"skipped_out_of_office", rep.skipped_out_of_office},
        {"skipped_off_hours", rep.skipped_off_hours},
        {"skipped_other", rep.skipped_other},
        {"returned", rep.returned},
        {"expired", rep.expired}};
    for (const auto& [k, v] : skips) {
      j.Key(k);
      j.Int(v);
    }
    j.Close('}');
  }
  j.Close(']');

  j.Key("pools");
  j.Open('[');
  for (const PoolRow& p : r.pools) {
    j.Open('{');
    j.Key("name");
    j.Str(p.name);
    j.Key("strategy");
    j.Str(p.strategy);
    j.Key("members");
    j.Open('[');
    for (const auto& m : p.members) j.Str(m);
    j.Close(']');
    j.Key("leads");
    j.Int(p.leads);
    j.Key("via_overflow");
    j.Int(p.via_overflow);
    j.Key("nobody_eligible");
    j.Int(p.nobody_eligible);
    j.Close('}');
  }
  j.Close(']');

  j.Key("territories");
  j.Open('[');
  for (const TerritoryRow& t : r.territories) {
    j.Open('{');
    j.Key("name");
    j.Str(t.name);
    j.Key("pool");
    j.Str(t.pool);
    j.Key("catch_all");
    j.Bool(t.catch_all);
    j.Key("leads");
    j.Int(t.leads);
    j.Key("assigned");
    j.Int(t.assigned);
    j.Close('}');
  }
  j.Close(']');
  j.Key("fell_to_catch_all");
  j.Int(r.fell_to_catch_all);
  j.Key("matched_no_territory");
  j.Int(r.matched_no_territory);
  j.Key("bypassed_territories");
  j.Int(r.bypassed_territories);
  j.Key("clock_went_backwards");
  j.Int(r.clock_went_backwards);
  j.Key("claims_owned");
  j.Int(r.claims_owned);

  j.Key("leads");
  j.Open('[');
  for (const LeadRow& l : r.leads) {
    j.Open('{');
    j.Key("line");
    j.Int(l.line);
    j.Key("event_id");
    j.Str(l.event_id);
    j.Key("occurred_at");
    j.Str(l.occurred_at);
    j.Key("company");
    j.Str(l.company);
    j.Key("outcome");
    j.Str(LeadOutcomeName(l.outcome));
    j.Key("score");
    j.Int(l.score);
    j.Key("rep_id");
    j.Str(l.rep_id);
    j.Key("territory");
    j.Str(l.territory);
    j.Key("pool");
    j.Str(l.pool);
    j.Key("reason");
    j.Str(l.reason);
    j.Close('}');
  }
  j.Close(']');
  if (diff != nullptr) {
    j.Key("diff");
    DiffJson(j, *diff);
  }
  j.Close('}');
  return j.out + "\n";
}

std::string RenderHtml(const Report& r, const Diff* diff) {
  std::string out = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>leadrouter what-if simulation</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px}
.card b{display:block;font-size:20px}svg text{font-size:12px;fill:#222}.note{color:#555;font-size:13px}
</style></head><body>
)";
  absl::StrAppend(&out, "<h1>What-if simulation</h1><p class=\"note\">config ",
                  HtmlEscape(Or(r.config_version, "(unversioned)")),
                  diff != nullptr
                      ? absl::StrCat(" compared with baseline ", HtmlEscape(diff->baseline_version))
                      : std::string(),
                  ". Leads were replayed in file order with the clock at each lead's occurred_at; "
                  "nothing was written anywhere.</p>\n");

  out += "<h2>Outcomes</h2><div class=\"cards\">";
  const std::vector<std::pair<const char*, int64_t>> cards = {
      {"lines", r.counts.lines},
      {"assigned", r.counts.assigned},
      {"unassigned", r.counts.unassigned},
      {"nurture", r.counts.nurture},
      {"disqualified", r.counts.disqualified},
      {"duplicate", r.counts.duplicates},
      {"replayed", r.counts.replayed},
      {"invalid", r.counts.invalid},
      {"returned", r.counts.returned},
      {"expired", r.counts.expired},
      {"re-routed", r.counts.rerouted}};
  for (const auto& [k, v] : cards) {
    absl::StrAppend(&out, "<div class=\"card\"><b>", v, "</b>", k, "</div>");
  }
  out += "</div>\n" + OutcomeChart(r) + "\n";
  auto reasons = [&](const char* title, const std::map<std::string, int64_t>& m) {
    if (m.empty()) return;
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : m) rows.push_back({k, absl::StrCat(v)});
    absl::StrAppend(&out, "<p class=\"note\">", title, "</p>",
                    HtmlTable({"reason", "leads"}, rows, {false, true}));
  };
  reasons("disqualified by reason", r.counts.disqualified_by_reason);
  reasons("invalid by reason", r.counts.invalid_by_reason);

  absl::StrAppend(&out, "<h2>Leads per rep vs target</h2>", RepsChart(r),
                  HtmlTable(kRepHeader, RepRows(r), kRepRight),
                  "<p class=\"note\">Skips count each time a rep was passed over as a candidate "
                  "(once per pool tried per lead).</p>\n");
  absl::StrAppend(&out, "<h2>Pool shares</h2>", HtmlTable(kShareHeader, ShareRows(r), kShareRight),
                  "\n");
  absl::StrAppend(&out, "<h2>Pools</h2>", HtmlTable(kPoolHeader, PoolRows(r), kPoolRight), "\n");
  absl::StrAppend(&out, "<h2>Territories</h2>",
                  HtmlTable(kTerritoryHeader, TerritoryRows(r), kTerritoryRight),
                  "<p class=\"note\">", HtmlEscape(TerritorySummary(r)), "</p>\n");
  if (diff != nullptr) {
    absl::StrAppend(&out, "<h2>Baseline vs candidate per rep</h2>", DiffChart(*diff),
                    HtmlTable(kDeltaHeader, DeltaRows(*diff), kDeltaRight), "<p class=\"note\">",
                    diff->changed, " lead(s) changed outcome or owner",
                    diff->changed > static_cast<int64_t>(diff->sample.size())
                        ? absl::StrCat("; the first ", diff->sample.size(), " are shown")
                        : std::string(),
                    ".</p>", HtmlTable(kChangeHeader, ChangeRows(*diff), kChangeRight), "\n");
  }
  std::vector<std::vector<std::string>> leads;
  for (const LeadRow& l : r.leads) {
    std::vector<std::string> cells = LeadCells(l);
    cells.insert(cells.begin() + 2, l.company);
    leads.push_back(std::move(cells));
  }
  std::vector<std::string> header = kLeadHeader;
  header.insert(header.begin() + 2, "company");
  std::vector<bool> right = kLeadRight;
  right.insert(right.begin() + 2, false);
  absl::StrAppend(&out, "<h2>Leads</h2>", HtmlTable(header, leads, right), "\n</body></html>\n");
  return out;
}

}  // namespace leadrouter::simulate

#pragma once

#include <cstddef>
#include <string>

#include "leadrouter/simulate/simulate.h"

namespace leadrouter::simulate {

// A terminal report: outcome counts, reps, pools, territories, then the first `max_leads`
// per-lead rows; with a diff, the per-rep gains and losses and the sample of changed leads.
std::string RenderText(const Report& report, const Diff* diff = nullptr, size_t max_leads = 50);

// The whole report (and diff) as one JSON object; every lead row included.
std::string RenderJson(const Report& report, const Diff* diff = nullptr);

// One self-contained HTML document: inline CSS and inline SVG charts (leads per rep vs target,
// outcome breakdown, baseline vs candidate per rep), no scripts, no external references. Every
// string from the config or the leads is HTML-escaped.
std::string RenderHtml(const Report& report, const Diff* diff = nullptr);

// Escaping helpers, exposed for tests. Invalid UTF-8 becomes U+FFFD in both.
std::string HtmlEscape(const std::string& text);
std::string JsonQuote(const std::string& text);  // with the surrounding quotes

}  // namespace leadrouter::simulate

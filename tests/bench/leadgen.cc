// leadgen: a seeded, deterministic generator of LeadEvent JSON lines for the benchmarks.
//
//   leadgen --seed 1 --count 1000                  JSON lines on stdout
//   leadgen --bootstrap B --topic leads.inbound    produced straight to Kafka (content-type json)
//   leadgen ... --rate 2000                        paced at 2,000 leads/s (0 = as fast as possible)
//
// The same seed and count give the same events (event ids include the seed), except occurred_at,
// which is the time each event is written (speed-to-lead is measured from it) unless
// --occurred-at fixes it. The mix: territories (US/CA, EU, JP, BR), company sizes, industries,
// source kinds and campaigns; ~10% person duplicates written differently (case, Gmail dots, plus
// tags, phone formats) under NEW event ids; ~2% invalid events (missing contact, bad email,
// garbage JSON); a share that does not qualify under the example profile (free mail, unsupported
// country, low score). A one-line summary of counts by kind goes to stderr.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "leadrouter/kafka/message.h"
#include "leadrouter/kafka/producer.h"

namespace {

struct Country {
  const char* code;
  const char* region;
  const char* phone_cc;
};

// Weighted towards the Americas; BR is outside the example profile's supported countries.
constexpr std::array<Country, 12> kCountries = {{{"US", "CA", "1"},
                                                 {"US", "NY", "1"},
                                                 {"US", "TX", "1"},
                                                 {"US", "WA", "1"},
                                                 {"CA", "ON", "1"},
                                                 {"GB", "", "44"},
                                                 {"DE", "BY", "49"},
                                                 {"FR", "", "33"},
                                                 {"NL", "", "31"},
                                                 {"ES", "", "34"},
                                                 {"JP", "", "81"},
                                                 {"BR", "SP", "55"}}};
constexpr std::array<const char*, 10> kIndustries = {
    "Software",  "Manufacturing", "Financial Services", "Healthcare", "Retail",
    "Wholesale", "Logistics",     "Education",          "Energy",     "Telecommunications"};
constexpr std::array<const char*, 6> kSourceKinds = {
    "LEAD_SOURCE_KIND_INBOUND_MARKETING", "LEAD_SOURCE_KIND_EVENT",
    "LEAD_SOURCE_KIND_PARTNER",           "LEAD_SOURCE_KIND_REP_SOURCED",
    "LEAD_SOURCE_KIND_PURCHASED_LIST",    "LEAD_SOURCE_KIND_OUTBOUND"};
constexpr std::array<const char*, 5> kSourceSystems = {"hubspot", "marketo", "webform",
                                                       "salesforce", "zoominfo"};
constexpr std::array<const char*, 8> kCampaigns = {
    "q4-demo-request", "pricing-page", "ebook-routing", "saastr-booth",
    "webinar-speed",   "partner-ref",  "abm-fintech",   "trial-signup"};
constexpr std::array<const char*, 16> kFirstNames = {
    "Maya", "Tomas", "Aisha", "Kenji", "Lena", "Omar", "Sofia", "Liam",
    "Yuki", "Carla", "Noah",  "Ines",  "Ravi", "Emma", "Joao",  "Hana"};
constexpr std::array<const char*, 16> kLastNames = {
    "Chen", "Rivera", "Okafor", "Tanaka", "Muller", "Haddad", "Rossi", "Walsh",
    "Sato", "Silva",  "Brown",  "Garcia", "Nair",   "Dubois", "Kowal", "Berg"};
constexpr std::array<const char*, 6> kTitles = {
    "VP Sales", "Director of Revenue", "Head of RevOps", "CFO", "Sales Manager", "Marketing Lead"};
constexpr std::array<const char*, 4> kFreeMail = {"gmail.com", "yahoo.com", "outlook.com",
                                                  "gmail.com"};
constexpr std::array<const char*, 3> kPriorities = {"", "BUYING_PRIORITY_PRICE",
                                                    "BUYING_PRIORITY_VALUE"};
constexpr std::array<const char*, 6> kAppetites = {"",
                                                   "INNOVATION_APPETITE_INNOVATOR",
                                                   "INNOVATION_APPETITE_EARLY_ADOPTER",
                                                   "INNOVATION_APPETITE_EARLY_MAJORITY",
                                                   "INNOVATION_APPETITE_LATE_MAJORITY",
                                                   "INNOVATION_APPETITE_LAGGARD"};

// A person as first seen; duplicates re-render it differently.
struct Person {
  std::string first;
  std::string last;
  std::string local;   // email local part
  std::string domain;  // email domain
  std::string phone_cc;
  std::string phone_national;  // 10 digits
  bool free_mail = false;
  size_t company = 0;
};

struct Company {
  std::string name;
  std::string domain;
  const char* industry = "";
  int64_t employees = 0;
  int64_t revenue = 0;
  int locations = 0;
  const Country* country = nullptr;
};

enum Kind : uint8_t { kNew, kDuplicate, kMissingContact, kBadEmail, kGarbage, kKindCount };
constexpr std::array<const char*, kKindCount> kKindNames = {
    "new_person", "duplicate_person", "invalid_missing_contact", "invalid_bad_email",
    "invalid_garbage_json"};

class Generator {
 public:
  explicit Generator(uint64_t seed) : seed_(seed), rng_(seed) {
    // A fixed universe of companies, so some leads land on the same account.
    for (size_t i = 0; i < 5000; ++i) companies_.push_back(MakeCompany(i));
  }

  // The next event: its JSON (one line), its key and its kind.
  std::string Next(uint64_t index, const std::string& occurred_at, std::string& key, Kind& kind) {
    key = absl::StrCat("lg-", seed_, "-", index);
    const uint64_t roll = Uniform(1000);
    if (roll < 5) {
      kind = kGarbage;
      counts_[kind]++;
      return absl::StrCat("{\"event_id\":\"", key, "\",\"occurred_at\":\"", occurred_at,
                          "\",\"person\":{\"email\":");
    }
    Person person;
    if (roll < 105 && !people_.empty()) {
      kind = kDuplicate;
      person = people_[Uniform(people_.size())];
    } else {
      kind = kNew;
      person = MakePerson();
      if (people_.size() < 20000) {
        people_.push_back(person);
      } else {
        people_[Uniform(people_.size())] = person;
      }
    }
    std::string email = absl::StrCat(person.local, "@", person.domain);
    std::string phone = absl::StrCat("+", person.phone_cc, " ", person.phone_national);
    if (kind == kDuplicate) RenderDifferently(person, email, phone);
    if (roll >= 105 && roll < 115) {
      kind = kMissingContact;
      email.clear();
      phone.clear();
    } else if (roll >= 115 && roll < 120) {
      kind = kBadEmail;
      email = absl::StrCat(person.local, "@@", person.domain);
    }
    counts_[kind]++;
    if (person.free_mail) free_mail_++;

    const Company& company = companies_[person.company];
    if (std::string(company.country->code) == "BR") unsupported_country_++;
    const char* source_kind = kSourceKinds[Pick({40, 15, 10, 5, 15, 15})];
    std::string out;
    out.reserve(640);
    absl::StrAppend(&out, "{\"event_id\":\"", key, "\",\"occurred_at\":\"", occurred_at,
                    "\",\"source_system\":\"", kSourceSystems[Uniform(kSourceSystems.size())],
                    "\",\"source_kind\":\"", source_kind, "\",\"campaign\":\"",
                    kCampaigns[Uniform(kCampaigns.size())], "\"");
    if (std::string(source_kind) == "LEAD_SOURCE_KIND_REP_SOURCED") {
      absl::StrAppend(&out, ",\"sourced_by_rep_id\":\"rep-ada\"");
    }
    absl::StrAppend(&out, ",\"person\":{\"first_name\":\"", person.first, "\",\"last_name\":\"",
                    person.last, "\"");
    if (!email.empty()) absl::StrAppend(&out, ",\"email\":\"", email, "\"");
    if (!phone.empty()) absl::StrAppend(&out, ",\"phone\":\"", phone, "\"");
    absl::StrAppend(&out, ",\"title\":\"", kTitles[Uniform(kTitles.size())], "\"}");
    absl::StrAppend(&out, ",\"company\":{\"name\":\"", company.name, "\",\"website\":\"https://",
                    company.domain, "\",\"industry\":\"", company.industry, "\"");
    if (company.employees > 0) absl::StrAppend(&out, ",\"employee_count\":", company.employees);
    if (company.revenue > 0) absl::StrAppend(&out, ",\"annual_revenue_usd\":", company.revenue);
    if (company.locations > 0) absl::StrAppend(&out, ",\"location_count\":", company.locations);
    absl::StrAppend(&out, ",\"country\":\"", company.country->code, "\"");
    if (*company.country->region != '\0') {
      absl::StrAppend(&out, ",\"region\":\"", company.country->region, "\"");
    }
    absl::StrAppend(&out, "}");
    const char* priority = kPriorities[Uniform(kPriorities.size())];
    const char* appetite = kAppetites[Uniform(kAppetites.size())];
    absl::StrAppend(&out, ",\"psychographics\":{\"intent_score\":", Uniform(101));
    if (*priority != '\0') absl::StrAppend(&out, ",\"buying_priority\":\"", priority, "\"");
    if (*appetite != '\0') absl::StrAppend(&out, ",\"innovation_appetite\":\"", appetite, "\"");
    absl::StrAppend(&out, "}}");
    return out;
  }

  std::string Summary(uint64_t total) const {
    std::string s = absl::StrCat("leadgen: seed=", seed_, " events=", total);
    for (size_t k = 0; k < kKindCount; ++k)
      absl::StrAppend(&s, " ", kKindNames[k], "=", counts_[k]);
    absl::StrAppend(
        &s, " free_mail=", free_mail_, " unsupported_country=", unsupported_country_,
        " (duplicates carry new event ids: with dedupe on, those of a live lead become DUPLICATE)");
    return s;
  }

 private:
  uint64_t Uniform(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  // An index drawn with the given integer weights.
  size_t Pick(std::initializer_list<double> weights) {
    return std::discrete_distribution<size_t>(weights)(rng_);
  }

  Company MakeCompany(size_t i) {
    Company c;
    c.name = absl::StrCat("Company ", i);
    c.domain = absl::StrCat("company", i, ".example");
    c.industry = kIndustries[Uniform(kIndustries.size())];
    // Sizes: small, mid-market, enterprise, unknown.
    switch (Pick({35, 35, 20, 10})) {
      case 0:
        c.employees = 5 + static_cast<int64_t>(Uniform(195));
        c.revenue = c.employees * 100000;
        c.locations = 1;
        break;
      case 1:
        c.employees = 200 + static_cast<int64_t>(Uniform(800));
        c.revenue = c.employees * 150000;
        c.locations = 1 + static_cast<int>(Uniform(8));
        break;
      case 2:
        c.employees = 1000 + static_cast<int64_t>(Uniform(50000));
        c.revenue = c.employees * 250000;
        c.locations = 5 + static_cast<int>(Uniform(100));
        break;
      default:
        break;
    }
    c.country = &kCountries[Uniform(kCountries.size())];
    return c;
  }

  Person MakePerson() {
    Person p;
    p.first = kFirstNames[Uniform(kFirstNames.size())];
    p.last = kLastNames[Uniform(kLastNames.size())];
    p.company = Uniform(companies_.size());
    std::string first = p.first;
    std::string last = p.last;
    std::transform(first.begin(), first.end(), first.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::transform(last.begin(), last.end(), last.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    p.local = absl::StrCat(first, ".", last, Uniform(100000));
    p.free_mail = Uniform(100) < 12;
    p.domain = p.free_mail ? kFreeMail[Uniform(kFreeMail.size())] : companies_[p.company].domain;
    p.phone_cc = companies_[p.company].country->phone_cc;
    p.phone_national =
        absl::StrFormat("%03d%03d%04d", 200 + Uniform(700), Uniform(1000), Uniform(10000));
    return p;
  }

  // The same person, written the way another form or system would write them.
  void RenderDifferently(const Person& p, std::string& email, std::string& phone) {
    switch (Uniform(4)) {
      case 0:  // case
        std::transform(email.begin(), email.end(), email.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        break;
      case 1:  // Gmail ignores dots in the local part (other providers get a plus tag instead)
        if (p.domain == "gmail.com") {
          std::string local;
          for (char c : p.local) {
            if (c != '.') local += c;
            if (std::isalpha(static_cast<unsigned char>(c)) && Uniform(4) == 0) local += '.';
          }
          email = absl::StrCat(local, "@", p.domain);
          break;
        }
        [[fallthrough]];
      case 2:  // plus tag
        email = absl::StrCat(p.local, "+", kCampaigns[Uniform(kCampaigns.size())], "@", p.domain);
        break;
      default:
        break;
    }
    const std::string& n = p.phone_national;
    switch (Uniform(3)) {
      case 0:
        phone = absl::StrCat("(", n.substr(0, 3), ") ", n.substr(3, 3), "-", n.substr(6));
        if (p.phone_cc != "1") phone = absl::StrCat("+", p.phone_cc, " ", phone);
        break;
      case 1:
        phone = absl::StrCat("+", p.phone_cc, n);
        break;
      default:
        phone = absl::StrCat("00", p.phone_cc, ".", n.substr(0, 3), ".", n.substr(3, 3), ".",
                             n.substr(6));
        break;
    }
  }

  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<Company> companies_;
  std::vector<Person> people_;
  std::array<uint64_t, kKindCount> counts_{};
  uint64_t free_mail_ = 0;
  uint64_t unsupported_country_ = 0;
};

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leadgen: seeded LeadEvent JSON generator for the benchmarks"};
  uint64_t seed = 1;
  uint64_t count = 1000;
  double rate = 0;
  std::string bootstrap;
  std::string topic = "leads.inbound";
  std::string occurred_at;
  size_t batch = 2000;
  bool occurred_at_now = true;
  app.add_option("--seed", seed, "random seed (event ids include it)");
  app.add_option("--count", count, "number of events");
  app.add_option("--rate", rate, "leads per second (0 = as fast as possible)");
  app.add_option("--bootstrap", bootstrap, "produce to this Kafka instead of writing stdout");
  app.add_option("--topic", topic, "topic to produce to");
  app.add_option("--batch", batch, "events per ProduceAndWait batch (unpaced runs)");
  app.add_flag("--occurred-at-now", occurred_at_now, "occurred_at = write time (the default)");
  app.add_option("--occurred-at", occurred_at,
                 "a fixed RFC 3339 occurred_at (reproducible output)");
  CLI11_PARSE(app, argc, argv);
  if (batch == 0) batch = 1;

  std::unique_ptr<leadrouter::kafka::Producer> producer;
  if (!bootstrap.empty()) {
    auto created = leadrouter::kafka::Producer::Create(
        {.bootstrap_servers = bootstrap,
         .extra = {{"linger.ms", rate > 0 ? "0" : "20"},
                   {"queue.buffering.max.messages", "200000"}}});
    if (!created.ok()) {
      std::cerr << "leadgen: " << created.status() << "\n";
      return 1;
    }
    producer = std::move(*created);
  }

  // librdkafka holds the first message to a topic until it has learnt the topic's partitions
  // (about a second): a paced run's first step stalled, and then everything due went out as one
  // burst. The metadata is fetched before the clock starts.
  if (producer) {
    if (absl::Status st = producer->WarmUp(topic, std::chrono::seconds(30)); !st.ok()) {
      std::cerr << "leadgen: " << st << "\n";
      return 1;
    }
  }

  Generator gen(seed);
  std::vector<leadrouter::kafka::OutgoingMessage> pending;
  const auto flush = [&]() -> bool {
    if (pending.empty()) return true;
    absl::Status st = producer->ProduceAndWait(pending, std::chrono::seconds(60));
    if (!st.ok()) {
      std::cerr << "leadgen: produce failed: " << st << "\n";
      return false;
    }
    pending.clear();
    return true;
  };
  // Paced runs send, at each step, every event that is due by now on an absolute schedule (event
  // i is due at i / rate s), stamped with the time it is built: a produce round trip that takes
  // longer than 1 / rate makes the next step larger, not the offered rate lower.
  const auto start = std::chrono::steady_clock::now();
  const auto at = [&](uint64_t index) {
    return start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(index) / rate));
  };
  uint64_t i = 0;
  std::string key;
  Kind kind = kNew;
  while (i < count) {
    uint64_t n = batch;
    if (rate > 0) {
      std::this_thread::sleep_until(at(i));
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto due = static_cast<uint64_t>(elapsed * rate) + 1;
      n = std::clamp<uint64_t>(due > i ? due - i : 1, 1, 5000);
    }
    const std::string when = occurred_at.empty() ? Rfc3339(absl::Now()) : occurred_at;
    for (uint64_t j = 0; j < n && i < count; ++j, ++i) {
      std::string value = gen.Next(i, when, key, kind);
      if (producer) {
        pending.push_back({.topic = topic,
                           .key = key,
                           .value = std::move(value),
                           .headers = {{.name = "content-type", .value = "application/json"}}});
      } else {
        value += '\n';
        std::fwrite(value.data(), 1, value.size(), stdout);
      }
    }
    if (producer && !flush()) return 1;
  }
  std::fflush(stdout);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << gen.Summary(count) << absl::StrFormat(" seconds=%.2f", secs) << "\n";
  return 0;
}

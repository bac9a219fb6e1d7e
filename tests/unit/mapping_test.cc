#include "leadrouter/sources/mapping.h"

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "leadrouter/lead/validate.h"
#include "leadrouter/sources/transforms.h"

namespace leadrouter::sources {
namespace {

using google::protobuf::util::TimeUtil;

const core::TimePoint kReceived = core::TimePoint(std::chrono::seconds(1700000500));

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Example(const std::string& name) {
  return ReadFile(std::string(LEADROUTER_SOURCE_DIR) + "/deploy/sources/examples/" + name);
}

std::shared_ptr<const Mapping> Profile(std::string_view name) {
  auto text = ShippedProfileText(name);
  EXPECT_TRUE(text.has_value()) << name;
  auto mapping = Mapping::Parse(*text, name);
  EXPECT_TRUE(mapping.ok()) << mapping.status();
  return *mapping;
}

std::vector<v1::LeadEvent> MapOk(const Mapping& mapping, std::string_view payload,
                                 std::optional<std::string_view> type = std::nullopt) {
  auto out = mapping.Map(payload, type, kReceived);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  for (const auto& event : out->events) {
    EXPECT_EQ(lead::ValidateLeadEvent(event, kReceived), std::nullopt) << event.DebugString();
  }
  return out->events;
}

std::string Time(const v1::LeadEvent& event) {
  return TimeUtil::ToString(event.occurred_at());
}

absl::Status MapError(std::string_view yaml, std::string_view payload) {
  auto mapping = Mapping::Parse(yaml, "m");
  EXPECT_TRUE(mapping.ok()) << mapping.status();
  auto out = (*mapping)->Map(payload, std::nullopt, kReceived);
  EXPECT_FALSE(out.ok());
  return out.status();
}

TEST(MappingProfiles, ShipsEveryProfile) {
  std::vector<std::string_view> expected = {
      "hubspot_form",    "hubspot_webhook", "hubspot_workflow", "leadevent", "marketo_lead",
      "marketo_webhook", "pardot_prospect", "salesforce_cdc",   "web_form"};
  EXPECT_EQ(ShippedProfileNames(), expected);
  EXPECT_FALSE(ShippedProfileText("leadevent").has_value());
}

TEST(MappingProfiles, HubspotWorkflow) {
  auto events = MapOk(*Profile("hubspot_workflow"), Example("hubspot_workflow.json"));
  ASSERT_EQ(events.size(), 1u);
  const v1::LeadEvent& e = events[0];
  EXPECT_EQ(e.event_id(), "hubspot-62515-3234574-1700000360000");
  EXPECT_EQ(e.source_record_id(), "3234574");
  EXPECT_EQ(e.source_system(), "hubspot");
  EXPECT_EQ(e.source_kind(), v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  EXPECT_EQ(Time(e), "2023-11-14T22:19:20Z");
  EXPECT_EQ(e.person().email(), "ada.lovelace@analytical-engines.example");
  EXPECT_EQ(e.person().first_name(), "Ada");
  EXPECT_EQ(e.person().last_name(), "Lovelace");
  EXPECT_EQ(e.person().phone(), "+44 20 7946 0958");
  EXPECT_EQ(e.person().title(), "Head of Engineering");
  EXPECT_EQ(e.company().name(), "Analytical Engines Ltd");
  EXPECT_EQ(e.company().website(), "https://www.analytical-engines.example");
  EXPECT_EQ(e.company().industry(), "Computer Software");
  EXPECT_EQ(e.company().employee_count(), 250);
  EXPECT_EQ(e.company().annual_revenue_usd(), 12500000);
  EXPECT_EQ(e.company().country(), "GB");
  EXPECT_EQ(e.company().region(), "London");
  EXPECT_EQ(e.company().postal_code(), "EC1A 1BB");
  EXPECT_EQ(e.campaign(), "spring-webinar");
  EXPECT_EQ(e.attributes().at("hs_analytics_source"), "ORGANIC_SEARCH");
  EXPECT_EQ(e.attributes().at("hs_portal_id"), "62515");
}

// A fake CRM objects API for the hubspot_webhook profile: answers from the shipped example
// contacts (deploy/sources/examples/hubspot_webhook.contacts.json) and records each request.
class ExampleContacts {
 public:
  ExampleContacts() {
    const std::string all = Example("hubspot_webhook.contacts.json");
    // Each contact's JSON text, cut at its top-level braces (the file is written by hand).
    for (const char* id : {"3234574", "3234575"}) {
      const size_t start = all.find('{', all.find(absl::StrCat("\"", id, "\":")));
      size_t depth = 0, end = start;
      for (; end < all.size(); ++end) {
        if (all[end] == '{') ++depth;
        if (all[end] == '}' && --depth == 0) break;
      }
      contacts_[id] = all.substr(start, end - start + 1);
    }
  }
  Mapping::Fetch fetch() {
    return [this](const Mapping::EnrichRequest& request) -> absl::StatusOr<std::string> {
      requests.push_back({std::string(request.kind), std::string(request.object_id)});
      properties = request.properties;
      if (!answer.ok()) return answer;
      auto it = contacts_.find(std::string(request.object_id));
      if (it == contacts_.end()) return absl::NotFoundError("contact not found (404)");
      return it->second;
    };
  }
  std::vector<std::pair<std::string, std::string>> requests;  // (kind, object id)
  std::vector<std::string> properties;
  absl::Status answer = absl::OkStatus();  // set to make every fetch fail

 private:
  std::map<std::string, std::string> contacts_;
};

TEST(MappingProfiles, HubspotWebhookFetchesEachContact) {
  auto mapping = Profile("hubspot_webhook");
  ExampleContacts contacts;
  const Mapping::Fetch fetch = contacts.fetch();
  auto out = mapping->Map(Example("hubspot_webhook.json"), std::nullopt, kReceived, &fetch);
  ASSERT_TRUE(out.ok()) << out.status();
  // Three events: two contact.creation, one contact.propertyChange (filtered, never fetched).
  EXPECT_EQ(out->filtered, 1u);
  ASSERT_EQ(out->events.size(), 2u);
  EXPECT_EQ(contacts.requests,
            (std::vector<std::pair<std::string, std::string>>{{"hubspot_contact", "3234574"},
                                                              {"hubspot_contact", "3234575"}}));
  // Exactly the properties the profile's rules read, for the API's `properties=`.
  EXPECT_EQ(contacts.properties,
            (std::vector<std::string>{"annualrevenue", "company", "country", "email", "firstname",
                                      "hs_analytics_source", "hs_analytics_source_data_2",
                                      "industry", "jobtitle", "lastname", "mobilephone",
                                      "numemployees", "phone", "state", "website", "zip"}));
  const v1::LeadEvent& ada = out->events[0];
  EXPECT_EQ(ada.event_id(), "hubspot-62515-3234574-1849230117-1764583200000");
  EXPECT_EQ(ada.source_record_id(), "3234574");
  EXPECT_EQ(ada.source_system(), "hubspot");
  EXPECT_EQ(ada.source_kind(), v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  EXPECT_EQ(Time(ada), "2025-12-01T10:00:00Z");
  EXPECT_EQ(ada.person().email(), "ada.lovelace@analytical-engines.example");
  EXPECT_EQ(ada.person().first_name(), "Ada");
  EXPECT_EQ(ada.person().last_name(), "Lovelace");
  EXPECT_EQ(ada.person().phone(), "+44 20 7946 0958");
  EXPECT_EQ(ada.person().title(), "Head of Engineering");
  EXPECT_EQ(ada.company().name(), "Analytical Engines Ltd");
  EXPECT_EQ(ada.company().website(), "https://www.analytical-engines.example");
  EXPECT_EQ(ada.company().industry(), "Computer Software");
  EXPECT_EQ(ada.company().employee_count(), 201);
  EXPECT_EQ(ada.company().annual_revenue_usd(), 12500000);
  EXPECT_EQ(ada.company().country(), "GB");
  EXPECT_EQ(ada.company().region(), "London");
  EXPECT_EQ(ada.company().postal_code(), "EC1A 1BB");
  EXPECT_EQ(ada.campaign(), "difference engine");
  EXPECT_EQ(ada.attributes().at("hs_analytics_source"), "ORGANIC_SEARCH");
  EXPECT_EQ(ada.attributes().at("hs_portal_id"), "62515");
  EXPECT_EQ(ada.attributes().at("hs_subscription_type"), "contact.creation");
  const v1::LeadEvent& charles = out->events[1];
  EXPECT_EQ(charles.event_id(), "hubspot-62515-3234575-1849230118-1764583260000");
  EXPECT_EQ(charles.person().email(), "Charles.Babbage@Babbage-Co.example") << "trimmed";
  EXPECT_EQ(charles.person().phone(), "+1 415 555 0134") << "phone is null: the mobile";
  EXPECT_EQ(charles.company().employee_count(), 1000);
  EXPECT_EQ(charles.company().country(), "US");
  const core::TimePoint later = core::TimePoint(std::chrono::seconds(1764590000));
  for (const auto& event : out->events) {
    EXPECT_EQ(lead::ValidateLeadEvent(event, later), std::nullopt) << event.DebugString();
  }

  // What a batch prefetch asks for: the kept events' contacts, nothing for the filtered one.
  EXPECT_EQ(mapping->EnrichObjectIds(Example("hubspot_webhook.json"), std::nullopt),
            (std::vector<std::string>{"3234574", "3234575"}));
  EXPECT_TRUE(Profile("hubspot_workflow")->EnrichObjectIds("{}", std::nullopt).empty());
  EXPECT_TRUE(mapping->EnrichObjectIds("not json", std::nullopt).empty());
  EXPECT_EQ(contacts.requests.size(), 2u) << "EnrichObjectIds fetched nothing";

  // ingest keys the same events without fetching: one piece per event, the same event ids.
  auto split = mapping->SplitDelivery(Example("hubspot_webhook.json"), std::nullopt, kReceived);
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_EQ(split->pieces.size(), 3u);
  EXPECT_EQ(split->pieces[0].event_ids, std::vector<std::string>{ada.event_id()});
  EXPECT_EQ(split->pieces[1].event_ids, std::vector<std::string>{charles.event_id()});
  EXPECT_TRUE(split->pieces[2].event_ids.empty()) << "the propertyChange is filtered";
  EXPECT_EQ(contacts.requests.size(), 2u) << "SplitDelivery fetched nothing";
  // Each piece maps on its own in the daemon to the same event.
  auto piece = mapping->Map(split->pieces[1].payload, "application/json", kReceived, &fetch);
  ASSERT_TRUE(piece.ok()) << piece.status();
  ASSERT_EQ(piece->events.size(), 1u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(piece->events[0], charles))
      << piece->events[0].DebugString();
}

TEST(MappingProfiles, HubspotWebhookFetchFailures) {
  auto mapping = Profile("hubspot_webhook");
  ExampleContacts contacts;
  const Mapping::Fetch fetch = contacts.fetch();
  const std::string event =
      R"({"eventId": 7, "portalId": 1, "objectId": 999, "occurredAt": 1764583200000,
          "subscriptionType": "contact.creation"})";
  // A contact HubSpot does not have: the record is unmappable, naming the path, not the value.
  auto missing = mapping->Map(event, std::nullopt, kReceived, &fetch);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status()));
  EXPECT_EQ(missing.status().message(), "record 0: enrich ← objectId: contact not found (404)");
  // HubSpot unreachable or rate limiting: the error comes back as it is (the caller retries).
  contacts.answer = absl::UnavailableError("hubspot: 429 Too Many Requests");
  auto down = mapping->Map(Example("hubspot_webhook.json"), std::nullopt, kReceived, &fetch);
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(absl::IsUnavailable(down.status())) << down.status();
  EXPECT_EQ(contacts.requests.size(), 2u) << "stops at the first transient failure";
  // No objectId: unmappable without asking HubSpot.
  contacts.answer = absl::OkStatus();
  auto no_id = mapping->Map(R"({"eventId": 7, "portalId": 1, "occurredAt": 1,
                                "subscriptionType": "contact.creation"})",
                            std::nullopt, kReceived, &fetch);
  EXPECT_EQ(no_id.status().message(), "record 0: enrich.object_id ← objectId: missing");
  EXPECT_EQ(contacts.requests.size(), 2u);
  // A 200 that is not a contact object.
  Mapping::Fetch garbage = [](const Mapping::EnrichRequest&) -> absl::StatusOr<std::string> {
    return std::string("[1, 2]");
  };
  auto bad = mapping->Map(event, std::nullopt, kReceived, &garbage);
  EXPECT_EQ(bad.status().message(),
            "record 0: enrich ← objectId: the fetched hubspot_contact is not a JSON object");
}

TEST(MappingErrors, EnrichConfigErrorsCarryTheirPaths) {
  auto parsed = Mapping::Parse(R"(
event_id: "x-{contact.id}"
filter: {from: contact.properties.kind, in: [a]}
enrich: {kind: salesforce_lead, object_id: [a, b], into: "a.b", colour: 1}
fields:
  person.email: contact.properties.email
)",
                               "sources[0].mapping");
  ASSERT_FALSE(parsed.ok());
  const std::string m(parsed.status().message());
  for (const char* line :
       {"sources[0].mapping.enrich.colour: unknown field (known: kind, object_id, into)",
        "sources[0].mapping.enrich.kind: must be hubspot_contact, got \"salesforce_lead\"",
        "sources[0].mapping.enrich.object_id: must be one source path",
        "sources[0].mapping.enrich.into: must be a member name of letters, digits and _"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << "\nin:\n" << m;
  }
  auto reads_fetched = Mapping::Parse(R"(
event_id: "x-{contact.id}"
filter: {from: contact.properties.kind, in: [a]}
enrich: {kind: hubspot_contact, object_id: contact.id}
fields:
  person.email: contact.properties.email
)",
                                      "s");
  ASSERT_FALSE(reads_fetched.ok());
  const std::string r(reads_fetched.status().message());
  for (const char* line :
       {"s.enrich.object_id: must not read the fetched contact",
        "s.filter.from: must not read the fetched contact (the filter runs before the fetch)",
        "s.event_id: must not read the fetched contact (leadrouter-ingest keys records without "
        "it)"}) {
    EXPECT_NE(r.find(line), std::string::npos) << line << "\nin:\n" << r;
  }
  auto plain = Mapping::Parse("fields: {person.email: email}", "s");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->enrich_kind(), "");
  EXPECT_EQ(Profile("hubspot_webhook")->enrich_kind(), "hubspot_contact");
}

TEST(MappingProfiles, HubspotForm) {
  auto events = MapOk(*Profile("hubspot_form"), Example("hubspot_form.json"));
  ASSERT_EQ(events.size(), 1u);
  const v1::LeadEvent& e = events[0];
  EXPECT_EQ(e.event_id(), "hubspot-form-5bd2f2f0-9b6a-4c1e-8f3e-2d8f6a1c0b11");
  EXPECT_EQ(e.source_record_id(), "5bd2f2f0-9b6a-4c1e-8f3e-2d8f6a1c0b11");
  EXPECT_EQ(Time(e), "2023-11-14T22:15:23Z");
  EXPECT_EQ(e.person().email(), "grace.hopper@navy-compilers.example");
  EXPECT_EQ(e.person().first_name(), "Grace");
  EXPECT_EQ(e.person().last_name(), "Hopper");
  EXPECT_EQ(e.company().name(), "Navy Compilers Inc");
  EXPECT_EQ(e.company().employee_count(), 1200);
  EXPECT_EQ(e.company().country(), "US");
  EXPECT_EQ(e.company().region(), "VA");
  EXPECT_EQ(e.attributes().at("page_url"), "https://www.example.com/demo");
}

TEST(MappingProfiles, MarketoWebhookAndItsTemplate) {
  const std::string payload = Example("marketo_webhook.json");
  auto events = MapOk(*Profile("marketo_webhook"), payload);
  ASSERT_EQ(events.size(), 1u);
  const v1::LeadEvent& e = events[0];
  EXPECT_TRUE(e.event_id().starts_with("marketo-318581-")) << e.event_id();
  EXPECT_EQ(e.event_id().size(), std::string("marketo-318581-").size() + 64);
  EXPECT_EQ(e.source_record_id(), "318581");
  EXPECT_EQ(e.source_system(), "marketo");
  EXPECT_EQ(e.source_kind(), v1::LEAD_SOURCE_KIND_EVENT);  // "Webinar"
  EXPECT_EQ(Time(e), "2023-11-14T22:21:40Z");              // no time token: received
  EXPECT_EQ(e.person().email(), "linus@kernel-works.example");
  EXPECT_EQ(e.person().first_name(), "Linus");
  EXPECT_EQ(e.person().last_name(), "Torvalds");
  EXPECT_EQ(e.person().title(), "Maintainer");
  EXPECT_EQ(e.company().name(), "Kernel Works");
  EXPECT_EQ(e.company().employee_count(), 50);
  EXPECT_EQ(e.company().annual_revenue_usd(), 3200000);
  EXPECT_EQ(e.company().country(), "FI");
  EXPECT_EQ(e.company().region(), "");
  EXPECT_EQ(e.company().postal_code(), "00100");
  EXPECT_EQ(e.campaign(), "Q4 Webinar");
  // The same body again (a retried call) is the same event; another body another.
  EXPECT_EQ(MapOk(*Profile("marketo_webhook"), payload)[0].event_id(), e.event_id());
  // Member order and blanks do not change the hash.
  auto reordered = MapOk(*Profile("marketo_webhook"),
                         R"({"email":"linus@kernel-works.example","leadId":318581})");
  auto reordered2 = MapOk(*Profile("marketo_webhook"),
                          R"({ "leadId" : 318581, "email" : "linus@kernel-works.example" })");
  EXPECT_EQ(reordered[0].event_id(), reordered2[0].event_id());
  EXPECT_NE(reordered[0].event_id(), e.event_id());

  // Every field of the template the profile reads is one the template writes.
  const std::string tmpl =
      ReadFile(std::string(LEADROUTER_SOURCE_DIR) + "/deploy/sources/marketo_webhook.template");
  for (const char* key : {"leadId", "email", "firstName", "lastName", "phone", "title",
                          "leadSource", "company", "website", "industry", "numberOfEmployees",
                          "annualRevenue", "country", "state", "postalCode", "campaignName"}) {
    EXPECT_NE(tmpl.find(std::string("\"") + key + "\": {{"), std::string::npos) << key;
  }
}

TEST(MappingProfiles, MarketoLeadPageAndSingleRecord) {
  auto events = MapOk(*Profile("marketo_lead"), Example("marketo_lead.json"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_id(), "marketo-50-2023-11-15T08:00:00Z");
  EXPECT_EQ(events[0].source_record_id(), "50");
  EXPECT_EQ(Time(events[0]), "2023-11-15T08:00:00Z");
  EXPECT_EQ(events[0].person().email(), "ken@bell-labs.example");
  EXPECT_EQ(events[0].person().first_name(), "Kenneth");
  EXPECT_EQ(events[0].person().last_name(), "Thompson");
  EXPECT_EQ(events[0].person().title(), "Researcher");
  EXPECT_EQ(events[0].company().name(), "Bell Labs");
  EXPECT_EQ(events[0].company().employee_count(), 5000);
  EXPECT_EQ(events[0].company().country(), "US");
  EXPECT_EQ(events[0].company().region(), "NJ");
  EXPECT_EQ(events[1].event_id(), "marketo-51-2023-11-14T22:15:00Z");
  EXPECT_EQ(events[1].person().email(), "dmr@bell-labs.example");
  EXPECT_EQ(events[1].company().country(), "US");  // "United States"

  auto single = MapOk(*Profile("marketo_lead"),
                      R"({"id": 7, "email": "a@b.example", "updatedAt": "2023-01-02T03:04:05Z"})");
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].event_id(), "marketo-7-2023-01-02T03:04:05Z");
}

TEST(MappingProfiles, SalesforceCdcOneEventPerRecordId) {
  auto events = MapOk(*Profile("salesforce_cdc"), Example("salesforce_cdc.json"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_id(), "sfdc-0002c9c4-8a1f-4b7e-bd7c-1f5e3c2a9d10-1-00Q5e00000AbCdEAAA");
  EXPECT_EQ(events[1].event_id(), "sfdc-0002c9c4-8a1f-4b7e-bd7c-1f5e3c2a9d10-1-00Q5e00000AbCdFAAA");
  EXPECT_EQ(events[0].source_record_id(), "00Q5e00000AbCdEAAA");
  EXPECT_EQ(events[1].source_record_id(), "00Q5e00000AbCdFAAA");
  for (const auto& e : events) {
    EXPECT_EQ(e.source_system(), "salesforce");
    EXPECT_EQ(e.source_kind(), v1::LEAD_SOURCE_KIND_EVENT);  // "Trade Show"
    EXPECT_EQ(Time(e), "2023-11-14T22:16:40Z");
    EXPECT_EQ(e.person().email(), "barbara@clu-systems.example");
    EXPECT_EQ(e.person().first_name(), "Barbara");
    EXPECT_EQ(e.person().last_name(), "Liskov");
    EXPECT_EQ(e.person().phone(), "(617) 555-0199");
    EXPECT_EQ(e.person().title(), "CTO");
    EXPECT_EQ(e.company().name(), "CLU Systems");
    EXPECT_EQ(e.company().employee_count(), 120);
    EXPECT_EQ(e.company().annual_revenue_usd(), 25000000);
    EXPECT_EQ(e.company().country(), "US");
    EXPECT_EQ(e.company().region(), "MA");
    EXPECT_EQ(e.company().postal_code(), "02139");
    EXPECT_EQ(e.attributes().at("lead_source"), "Trade Show");
  }
}

TEST(MappingProfiles, SalesforceCdcRoutesOnlyTheConfiguredChangeTypes) {
  std::string update = Example("salesforce_cdc.json");
  update.replace(update.find("\"CREATE\""), 8, "\"UPDATE\"");
  auto cdc = Profile("salesforce_cdc");
  EXPECT_EQ(cdc->Options().at("route_change_types"), std::vector<std::string>{"CREATE"});
  auto out = cdc->Map(update, std::nullopt, kReceived);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->events.empty());
  EXPECT_EQ(out->filtered, 2u);

  auto both = cdc->WithOptions({{"route_change_types", {"CREATE", "UPDATE"}}}, "options");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(MapOk(**both, update).size(), 2u);

  auto typo = cdc->WithOptions({{"route_change_type", {"UPDATE"}}}, "sources[0].options");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(),
            "sources[0].options.route_change_type: unknown option (known: route_change_types)");
}

TEST(MappingProfiles, PardotProspect) {
  auto events = MapOk(*Profile("pardot_prospect"), Example("pardot_prospect.json"));
  ASSERT_EQ(events.size(), 1u);
  const v1::LeadEvent& e = events[0];
  EXPECT_EQ(e.event_id(), "pardot-14930-2023-11-14T18:30:00-05:00");
  EXPECT_EQ(e.source_record_id(), "00Q5e00000XyZaBAAA");
  EXPECT_EQ(Time(e), "2023-11-14T23:30:00Z");
  EXPECT_EQ(e.person().email(), "margaret@apollo-guidance.example");
  EXPECT_EQ(e.person().first_name(), "Margaret");
  EXPECT_EQ(e.person().last_name(), "Hamilton");
  EXPECT_EQ(e.person().title(), "Director of Software");
  EXPECT_EQ(e.company().name(), "Apollo Guidance");
  EXPECT_EQ(e.company().industry(), "Aerospace");
  EXPECT_EQ(e.company().employee_count(), 51);  // "51-200"
  EXPECT_EQ(e.company().annual_revenue_usd(), 10000000);
  EXPECT_EQ(e.company().country(), "US");
  EXPECT_EQ(e.psychographics().intent_score(), 72);
  EXPECT_EQ(e.attributes().at("pardot_grade"), "A-");
  EXPECT_EQ(e.attributes().at("pardot_source"), "Website");
}

TEST(MappingProfiles, WebFormUrlencodedWithWebToLeadNames) {
  const std::string body = Example("web_form.txt");
  auto events = MapOk(*Profile("web_form"), body, "application/x-www-form-urlencoded");
  ASSERT_EQ(events.size(), 1u);
  const v1::LeadEvent& e = events[0];
  EXPECT_TRUE(e.event_id().starts_with("webform-")) << e.event_id();
  EXPECT_EQ(e.source_record_id(), "");
  EXPECT_EQ(e.source_system(), "webform");
  EXPECT_EQ(e.source_kind(), v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  EXPECT_EQ(Time(e), "2023-11-14T22:21:40Z");
  EXPECT_EQ(e.person().email(), "alan@enigma-labs.example");
  EXPECT_EQ(e.person().first_name(), "Alan");
  EXPECT_EQ(e.person().last_name(), "Turing");
  EXPECT_EQ(e.person().title(), "Research Lead");
  EXPECT_EQ(e.person().phone(), "+44 161 496 0000");
  EXPECT_EQ(e.company().name(), "Enigma Labs");
  EXPECT_EQ(e.company().website(), "https://enigma-labs.example");
  EXPECT_EQ(e.company().employee_count(), 50000);
  EXPECT_EQ(e.company().country(), "DE");
  EXPECT_EQ(e.company().region(), "");
  EXPECT_EQ(e.attributes().at("lead_source"), "Web");
  // A double submit is one event; without a content-type the profile's `input: form` applies.
  EXPECT_EQ(MapOk(*Profile("web_form"), body)[0].event_id(), e.event_id());
}

// --- the generic mapping ------------------------------------------------------------------

TEST(MappingSpec, PathsPointersSelectorsRootAndFirstNonEmpty) {
  auto mapping = Mapping::Parse(R"(
records: "items[*]"
event_id: "x-{$/meta/batch}-{id}"
fields:
  source_kind: {const: PARTNER}
  occurred_at: {from: /when, transforms: [epoch_s]}
  person.email: {from: [mail, /contact/e~1mail, "contact.list[1]"]}
  person.first_name: "tags[k=first].v"
  company.name: {from: missing, default: "Unknown Co"}
)",
                                "m");
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  auto events = MapOk(**mapping, R"({"meta": {"batch": "b7"}, "items": [
      {"id": 1, "when": 1700000000, "mail": "  ", "contact": {"e/mail": "one@x.example"},
       "tags": [{"k": "last", "v": "L"}, {"k": "first", "v": "Fi"}]},
      {"id": 2, "when": "1700000001", "contact": {"list": ["a", "two@x.example"]},
       "tags": []}]})");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_id(), "x-b7-1");
  EXPECT_EQ(events[0].source_kind(), v1::LEAD_SOURCE_KIND_PARTNER);
  EXPECT_EQ(events[0].person().email(), "one@x.example");
  EXPECT_EQ(events[0].person().first_name(), "Fi");
  EXPECT_EQ(events[0].company().name(), "Unknown Co");
  EXPECT_EQ(Time(events[0]), "2023-11-14T22:13:20Z");
  EXPECT_EQ(events[1].event_id(), "x-b7-2");
  EXPECT_EQ(events[1].person().email(), "two@x.example");
  EXPECT_EQ(Time(events[1]), "2023-11-14T22:13:21Z");
}

TEST(MappingSpec, ATopLevelArraySplitsIntoEvents) {
  auto mapping = Mapping::Parse(
      "records: \"[*]\"\nevent_id: \"a-{id}\"\nfields:\n  source_kind: {const: EVENT}\n"
      "  person.email: email\n",
      "m");
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  auto events = MapOk(**mapping, R"([{"id": "1", "email": "a@x.example"},
                                     {"id": "2", "email": "b@x.example"}])");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event_id(), "a-2");
}

TEST(MappingSpec, TransformsAndValueMaps) {
  auto mapping = Mapping::Parse(R"(
fields:
  source_kind: {from: kind, map: {Webinar: EVENT, "Trade show": event}}
  person.email: {from: email, transforms: [trim, lower]}
  person.first_name: {from: name, transforms: [first_name]}
  person.last_name: {from: name, transforms: [last_name]}
  person.title: {from: title, transforms: [upper]}
  company.country: {from: country, transforms: [country]}
  company.region: {from: country2, transforms: [country]}
  company.annual_revenue_usd: {from: revenue, transforms: [number]}
  company.employee_count: size
  psychographics.buying_priority: {from: priority, map: {cheap: PRICE}}
  psychographics.innovation_appetite: appetite
  occurred_at: {from: at, transforms: [rfc3339]}
  attributes.utm_source: utm
)",
                                "m");
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  auto events = MapOk(**mapping, R"({"kind": "trade SHOW", "email": "  Ann@X.Example ",
      "name": "Ann Mary Smith", "title": "cto", "country": "Korea, Republic of",
      "country2": "Atlantis", "revenue": "1.2M", "size": "50k", "priority": "Cheap",
      "appetite": "early_adopter", "at": "2023-11-14T12:00:00+01:00", "utm": "google"})");
  ASSERT_EQ(events.size(), 1u);
  const v1::LeadEvent& e = events[0];
  EXPECT_EQ(e.source_kind(), v1::LEAD_SOURCE_KIND_EVENT);
  EXPECT_EQ(e.person().email(), "ann@x.example");
  EXPECT_EQ(e.person().first_name(), "Ann");
  EXPECT_EQ(e.person().last_name(), "Mary Smith");
  EXPECT_EQ(e.person().title(), "CTO");
  EXPECT_EQ(e.company().country(), "KR");
  EXPECT_EQ(e.company().region(), "Atlantis");  // unknown names pass unchanged
  EXPECT_EQ(e.company().annual_revenue_usd(), 1200000);
  EXPECT_EQ(e.company().employee_count(), 50000);  // an integer target reads units too
  EXPECT_EQ(e.psychographics().buying_priority(), v1::BUYING_PRIORITY_PRICE);
  EXPECT_EQ(e.psychographics().innovation_appetite(), v1::INNOVATION_APPETITE_EARLY_ADOPTER);
  EXPECT_EQ(Time(e), "2023-11-14T11:00:00Z");
  EXPECT_EQ(e.attributes().at("utm_source"), "google");
  // A hash event id (the default) is 64 hex digits.
  EXPECT_EQ(e.event_id().size(), 64u);
}

TEST(MappingTransforms, NumbersWithUnits) {
  EXPECT_EQ(ParseNumberWithUnits("1.2M"), 1200000);
  EXPECT_EQ(ParseNumberWithUnits("50k"), 50000);
  EXPECT_EQ(ParseNumberWithUnits("50 K"), 50000);
  EXPECT_EQ(ParseNumberWithUnits("3bn"), 3000000000);
  EXPECT_EQ(ParseNumberWithUnits("$1,500"), 1500);
  EXPECT_EQ(ParseNumberWithUnits("1.5 million"), 1500000);
  EXPECT_EQ(ParseNumberWithUnits("51-200"), 51);
  EXPECT_EQ(ParseNumberWithUnits("500+"), 500);
  EXPECT_EQ(ParseNumberWithUnits("-7"), -7);
  EXPECT_EQ(ParseNumberWithUnits("12.6"), 13);
  EXPECT_EQ(ParseNumberWithUnits("lots"), std::nullopt);
  EXPECT_EQ(ParseNumberWithUnits("5 apples"), std::nullopt);
  EXPECT_EQ(ParseNumberWithUnits(""), std::nullopt);
  EXPECT_EQ(ParseNumberWithUnits("99999999999T"), std::nullopt);
}

TEST(MappingTransforms, Timestamps) {
  auto text = [](std::string_view in, TimeFormat f) -> std::string {
    auto ts = ParseTimestamp(in, f);
    return ts ? TimeUtil::ToString(*ts) : "none";
  };
  EXPECT_EQ(text("1700000000000", TimeFormat::kEpochMillis), "2023-11-14T22:13:20Z");
  EXPECT_EQ(text("1700000000123", TimeFormat::kEpochMillis), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(text("1700000000", TimeFormat::kEpochSeconds), "2023-11-14T22:13:20Z");
  EXPECT_EQ(text("2023-11-14T22:13:20Z", TimeFormat::kRfc3339), "2023-11-14T22:13:20Z");
  EXPECT_EQ(text("1700000000000", TimeFormat::kAny), "2023-11-14T22:13:20Z");
  EXPECT_EQ(text("1700000000", TimeFormat::kAny), "2023-11-14T22:13:20Z");
  EXPECT_EQ(text("2023-11-14T23:13:20+01:00", TimeFormat::kAny), "2023-11-14T22:13:20Z");
  EXPECT_EQ(text("yesterday", TimeFormat::kAny), "none");
  EXPECT_EQ(text("-5", TimeFormat::kEpochSeconds), "none");
  EXPECT_EQ(text("2023-11-14", TimeFormat::kRfc3339), "none");
  EXPECT_EQ(text("1e400", TimeFormat::kEpochMillis), "none");
}

TEST(MappingTransforms, CountriesAndNames) {
  EXPECT_EQ(CountryCode("Germany"), "DE");
  EXPECT_EQ(CountryCode("deu"), "DE");
  EXPECT_EQ(CountryCode("de"), "DE");
  EXPECT_EQ(CountryCode("  the Netherlands "), "NL");
  EXPECT_EQ(CountryCode("U.S.A."), "US");
  EXPECT_EQ(CountryCode("United Kingdom"), "GB");
  EXPECT_EQ(CountryCode("Côte d'Ivoire"), "CI");
  EXPECT_EQ(CountryCode("korea republic of"), "KR");
  EXPECT_EQ(CountryCode("Atlantis"), std::nullopt);
  EXPECT_EQ(SplitFullName("Ada King Lovelace"),
            std::make_pair(std::string("Ada"), std::string("King Lovelace")));
  EXPECT_EQ(SplitFullName("Lovelace, Ada"),
            std::make_pair(std::string("Ada"), std::string("Lovelace")));
  EXPECT_EQ(SplitFullName(" Ada "), std::make_pair(std::string("Ada"), std::string()));
}

TEST(MappingErrors, NameTheSourcePathNeverTheValue) {
  const char* spec = R"(
event_id: "t-{id}"
fields:
  source_kind: {const: EVENT}
  occurred_at: {from: when, transforms: [epoch_ms]}
  person.email: contact.email
  company.employee_count: size
  psychographics.buying_priority: prio
)";
  EXPECT_EQ(MapError(spec, R"({"id": 1, "when": "soon"})").message(),
            "occurred_at ← when: not a timestamp (epoch ms)");
  EXPECT_EQ(MapError(spec, R"({"id": 1, "contact": {"email": {"x": 1}}})").message(),
            "person.email ← contact.email: not a value (an object)");
  EXPECT_EQ(MapError(spec, R"({"id": 1, "size": "a few"})").message(),
            "company.employee_count ← size: not an integer");
  EXPECT_EQ(MapError(spec, R"({"id": 1, "prio": "SECRET-VALUE"})").message(),
            "psychographics.buying_priority ← prio: no BuyingPriority value (add it to the rule's "
            "map)");
  EXPECT_EQ(MapError(spec, R"({"when": 1})").message(), "event_id ← id: missing or empty");
  EXPECT_EQ(
      MapError(spec, R"([1, 2])").message(),
      "records ← $: the payload is an array, not an object (an array needs records: \"[*]\")");
  EXPECT_EQ(std::string(MapError(spec, "{\"id\": ").message()).substr(0, 12), "invalid JSON");
  EXPECT_EQ(MapError("records: \"r[*]\"\nevent_id: \"{id}\"\nfields:\n  person.email: {from: e, "
                     "required: true}\n",
                     R"({"r": [{"id": 1, "e": "a@x.example"}, {"id": 2}]})")
                .message(),
            "record 1: person.email ← e: required, but missing or empty");
  EXPECT_EQ(MapError("records: \"r[*]\"\nfields:\n  person.email: e\n", R"({"r": 5})").message(),
            "records ← r[*]: not an array (a number)");

  auto form = Mapping::Parse("input: form\nfields:\n  person.email: email\n", "m");
  ASSERT_TRUE(form.ok());
  auto bad = (*form)->Map("email=a%2", std::nullopt, kReceived);
  EXPECT_EQ(bad.status().message(), "invalid form body: truncated %-escape at byte 7");
  auto xml = (*form)->Map("<x/>", "text/xml", kReceived);
  EXPECT_EQ(xml.status().message(),
            "content-type: neither application/json nor application/x-www-form-urlencoded");
}

TEST(MappingErrors, ConfigErrorsCarryTheirPaths) {
  auto parsed = Mapping::Parse(R"(
input: xml
records: "items"
colour: blue
event_id: "a-{id"
filter: {from: [a, b], in: x}
fields:
  person.emial: email
  source_kind: {const: ALIENS}
  occurred_at: {from: at, transforms: [epoch_us], extra: 1}
  event_id: id
  person.title: {from: "items[*].t"}
  company.name: {}
)",
                               "sources[2].mapping");
  ASSERT_FALSE(parsed.ok());
  const std::string m(parsed.status().message());
  for (const char* line :
       {"sources[2].mapping.colour: unknown field (known: input, records, filter, event_id, "
        "fields, enrich)",
        "sources[2].mapping.input: must be json or form",
        "sources[2].mapping.records: must be a source path ending in [*], e.g. result[*]",
        "sources[2].mapping.event_id: unclosed { in the template",
        "sources[2].mapping.filter.from: must be one source path",
        "sources[2].mapping.filter.in: must be a list of values",
        "sources[2].mapping.fields.person.emial: unknown target (known: occurred_at, "
        "attributes.<key>, source_system,",
        "sources[2].mapping.fields.source_kind.const: \"ALIENS\" is no LeadSourceKind value",
        "sources[2].mapping.fields.occurred_at.extra: unknown field",
        "sources[2].mapping.fields.occurred_at.transforms[0]: unknown transform \"epoch_us\" "
        "(known: trim, lower,",
        "sources[2].mapping.fields.event_id: the event id is the mapping's `event_id` template",
        "sources[2].mapping.fields.person.title.from: [*] belongs in `records`",
        "sources[2].mapping.fields.company.name: needs from (source paths) or const"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << "\nin:\n" << m;
  }
  EXPECT_FALSE(Mapping::Parse("- a\n- b\n", "p").ok());
  EXPECT_FALSE(Mapping::Parse("fields: {a: [\n", "p").ok());
}

}  // namespace
}  // namespace leadrouter::sources

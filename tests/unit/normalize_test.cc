#include "leadrouter/normalize/normalize.h"

#include <idn2.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host.h"
#include "memo.h"

namespace leadrouter::normalize {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

template <typename T>
std::string CaseName(const ::testing::TestParamInfo<T>& info) {
  return info.param.name;
}

// Failure messages show a case by its input rather than as raw bytes.
template <typename T>
void PrintCase(const T& c, std::ostream* os) {
  *os << c.name << " (\"" << c.input << "\")";
}

// --- NormalizeEmail ------------------------------------------------------------------------

struct EmailCase {
  std::string name;
  std::string input;
  std::string address;  // expected canonical address; "" when the input must be rejected
  std::string error;    // substring of the InvalidArgument message when rejected
};

void PrintTo(const EmailCase& c, std::ostream* os) {
  PrintCase(c, os);
}

class EmailTest : public ::testing::TestWithParam<EmailCase> {};

TEST_P(EmailTest, Normalizes) {
  const EmailCase& c = GetParam();
  const absl::StatusOr<Email> got = NormalizeEmail(c.input);
  if (c.address.empty()) {
    ASSERT_FALSE(got.ok()) << got->address;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.error));
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->address, c.address);
  const size_t at = c.address.find('@');
  EXPECT_EQ(got->local, c.address.substr(0, at));
  EXPECT_EQ(got->domain, c.address.substr(at + 1));
}

const std::vector<EmailCase>& EmailCases() {
  static const auto* const kCases = new std::vector<EmailCase>{
      EmailCase{"plain", "jane@acme.com", "jane@acme.com", ""},
      EmailCase{"upper_case", "Jane.Doe@ACME.COM", "jane.doe@acme.com", ""},
      EmailCase{"surrounding_blanks", "  \tjane@acme.com \r\n", "jane@acme.com", ""},
      EmailCase{"no_break_spaces", "\u00a0jane@acme.com\u3000", "jane@acme.com", ""},
      EmailCase{"angle_brackets", "<jane@acme.com>", "jane@acme.com", ""},
      EmailCase{"mailto", "mailto:Jane@Acme.com", "jane@acme.com", ""},
      EmailCase{"mailto_upper_with_query", "MAILTO:jane@acme.com?subject=Hello", "jane@acme.com",
                ""},
      EmailCase{"angle_mailto", " < mailto:jane@acme.com > ", "jane@acme.com", ""},
      EmailCase{"gmail_dots", "J.A.N.E.Doe@gmail.com", "janedoe@gmail.com", ""},
      EmailCase{"gmail_tag", "jane+newsletter@gmail.com", "jane@gmail.com", ""},
      EmailCase{"gmail_dotted_tag", "ja.ne+news.letter@Gmail.Com", "jane@gmail.com", ""},
      EmailCase{"googlemail", "Jane.Doe+x@GoogleMail.com", "janedoe@gmail.com", ""},
      EmailCase{"outlook_tag_keeps_dots", "jane.doe+leads@outlook.com", "jane.doe@outlook.com", ""},
      EmailCase{"hotmail_tag", "JANE+x@hotmail.com", "jane@hotmail.com", ""},
      EmailCase{"icloud_tag", "jane+shop@icloud.com", "jane@icloud.com", ""},
      EmailCase{"proton_tag", "jane+a+b@proton.me", "jane@proton.me", ""},
      EmailCase{"fastmail_tag", "jane+x@fastmail.com", "jane@fastmail.com", ""},
      // Issue 16: every domain drops the tag (Workspace and Microsoft 365 deliver it to the base).
      EmailCase{"corporate_tag", "jane+sales@acme.com", "jane@acme.com", ""},
      EmailCase{"corporate_tags", "Jane+a+b@Acme.co.uk", "jane@acme.co.uk", ""},
      // A base that is not an address keeps the tag there (on known providers it is an error).
      EmailCase{"corporate_only_tag", "+sales@acme.com", "+sales@acme.com", ""},
      EmailCase{"corporate_tag_leaves_dot", "jane.+x@acme.com", "jane.+x@acme.com", ""},
      EmailCase{"corporate_keeps_dots", "j.a.n.e@acme.com", "j.a.n.e@acme.com", ""},
      EmailCase{"yahoo_keeps_dash", "jane-promo@yahoo.com", "jane-promo@yahoo.com", ""},
      EmailCase{"idn_domain", "müller@bücher.de", "müller@xn--bcher-kva.de", ""},
      EmailCase{"idn_upper_case", "MÜLLER@BÜCHER.DE", "müller@xn--bcher-kva.de", ""},
      EmailCase{"idn_decomposed_local", "mu\u0308ller@xn--bcher-kva.de", "müller@xn--bcher-kva.de",
                ""},
      EmailCase{"a_label_domain", "jane@XN--BCHER-KVA.de", "jane@xn--bcher-kva.de", ""},
      EmailCase{"trailing_dot_domain", "jane@acme.com.", "jane@acme.com", ""},
      EmailCase{"subdomain_kept", "jane@mail.acme.co.uk", "jane@mail.acme.co.uk", ""},
      EmailCase{"atext_specials", "o'brien!#$%&*/=?^_`{|}~-x@acme.com",
                "o'brien!#$%&*/=?^_`{|}~-x@acme.com", ""},
      EmailCase{"empty", "", "", "empty"}, EmailCase{"blank", "  \t ", "", "empty"},
      EmailCase{"no_at", "jane.acme.com", "", "no '@'"},
      EmailCase{"two_at", "jane@doe@acme.com", "", "more than one '@'"},
      EmailCase{"empty_local", "@acme.com", "", "empty local part"},
      EmailCase{"empty_domain", "jane@", "", "empty domain"},
      EmailCase{"single_label_domain", "a@b", "", "single label"},
      EmailCase{"space_inside", "jane doe@acme.com", "", "white space"},
      EmailCase{"display_name", "Jane Doe <jane@acme.com>", "", "white space"},
      EmailCase{"two_trailing_dots", "jane@acme.com..", "", "empty label"},
      EmailCase{"empty_label", "jane@acme..com", "", "empty label"},
      EmailCase{"ip_domain", "jane@192.168.0.1", "", "IP address"},
      EmailCase{"domain_literal", "jane@[192.168.0.1]", "", "character other than"},
      EmailCase{"underscore_domain", "jane@ac_me.com", "", "character other than"},
      EmailCase{"hyphen_label", "jane@-acme.com", "", "domain is not valid"},
      EmailCase{"leading_dot_local", ".jane@acme.com", "", "dot"},
      EmailCase{"double_dot_local", "ja..ne@acme.com", "", "two dots"},
      EmailCase{"quoted_local", "\"jane\"@acme.com", "", "not allowed"},
      EmailCase{"only_tag_gmail", "+tag@gmail.com", "", "empty without its +tag"},
      EmailCase{"tag_leaves_trailing_dot", "jane.+x@outlook.com", "", "dot"},
      EmailCase{"invalid_utf8", "ja\xffne@acme.com", "", "UTF-8"},
      EmailCase{"long_local", std::string(65, 'a') + "@acme.com", "", "longer than 64"}};
  return *kCases;
}

INSTANTIATE_TEST_SUITE_P(Email, EmailTest, ::testing::ValuesIn(EmailCases()), CaseName<EmailCase>);

TEST(EmailTest, ErrorsDoNotEchoTheAddress) {
  for (const char* bad : {"secret.person@@acme.com", "secret person@acme.com",
                          "secret@secret-domain", "secret@secret_domain.com"}) {
    const absl::StatusOr<Email> got = NormalizeEmail(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_THAT(std::string(got.status().message()), Not(HasSubstr("secret"))) << bad;
  }
}

// --- NormalizePhone ------------------------------------------------------------------------

struct PhoneCase {
  std::string name;
  std::string input;
  std::string region;
  std::string e164;       // "" when the input must be rejected
  std::string extension;  // or, when rejected, a substring of the message
};

void PrintTo(const PhoneCase& c, std::ostream* os) {
  PrintCase(c, os);
}

class PhoneTest : public ::testing::TestWithParam<PhoneCase> {};

TEST_P(PhoneTest, Normalizes) {
  const PhoneCase& c = GetParam();
  const absl::StatusOr<Phone> got = NormalizePhone(c.input, c.region);
  if (c.e164.empty()) {
    ASSERT_FALSE(got.ok()) << got->e164;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.extension));
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->e164, c.e164);
  EXPECT_EQ(got->extension, c.extension);
}

const std::vector<PhoneCase>& PhoneCases() {
  static const auto* const kCases = new std::vector<PhoneCase>{
      PhoneCase{"us_national", "(415) 555-2671", "US", "+14155552671", ""},
      PhoneCase{"us_dots_with_trunk", "1.415.555.2671", "US", "+14155552671", ""},
      PhoneCase{"uk_international", "+44 20 7946 0958", "US", "+442079460958", ""},
      PhoneCase{"uk_with_zero_in_parens", "+44 (0) 20 7946 0958", "US", "+442079460958", ""},
      PhoneCase{"uk_national", "020 7946 0958", "GB", "+442079460958", ""},
      PhoneCase{"de_double_zero", "0049 30 1234567", "DE", "+49301234567", ""},
      PhoneCase{"de_double_zero_region_us", "0049 30 1234567", "US", "+49301234567", ""},
      PhoneCase{"de_double_zero_no_region", "0049 30 1234567", "", "+49301234567", ""},
      PhoneCase{"de_national", "030 1234567", "DE", "+49301234567", ""},
      PhoneCase{"de_national_lower_region", "030/1234567", "de", "+49301234567", ""},
      PhoneCase{"fr_national", "01 23 45 67 89", "FR", "+33123456789", ""},
      PhoneCase{"us_idd_011", "011 44 20 7946 0958", "US", "+442079460958", ""},
      PhoneCase{"e164_any_region", "+14155552671", "", "+14155552671", ""},
      PhoneCase{"tel_uri", "tel:+1-415-555-2671", "US", "+14155552671", ""},
      PhoneCase{"ext_dot", "+1 415 555 2671 ext. 12", "US", "+14155552671", "12"},
      PhoneCase{"ext_x", "(415) 555-2671 x12", "US", "+14155552671", "12"},
      PhoneCase{"ext_rfc3966", "+1-415-555-2671;ext=7", "US", "+14155552671", "7"},
      PhoneCase{"surrounding_blanks", " \t+1 415 555 2671\u00a0", "", "+14155552671", ""},
      PhoneCase{"vanity_letters", "1-800-FLOWERS", "US", "+18003569377", ""},
      PhoneCase{"letters", "call me maybe", "US", "", "not a number"},
      PhoneCase{"too_short", "123", "US", "", "too short"},
      PhoneCase{"too_long", "+1 415 555 2671 4155552671 99999", "US", "", "too long"},
      PhoneCase{"unknown_region_without_plus", "415 555 2671", "", "", "country code"},
      PhoneCase{"bad_region_without_plus", "415 555 2671", "USA", "", "country code"},
      PhoneCase{"unassigned_us_area_code", "+1 555 555 5555", "US", "", "not a valid number"},
      PhoneCase{"unknown_country_code", "+999 1234 5678", "", "", "country code"},
      PhoneCase{"empty", "", "US", "", "empty"}};
  return *kCases;
}

INSTANTIATE_TEST_SUITE_P(Phone, PhoneTest, ::testing::ValuesIn(PhoneCases()), CaseName<PhoneCase>);

// --- RegistrableDomain ---------------------------------------------------------------------

struct DomainCase {
  std::string name;
  std::string input;
  std::string expected;
};

void PrintTo(const DomainCase& c, std::ostream* os) {
  PrintCase(c, os);
}

class DomainTest : public ::testing::TestWithParam<DomainCase> {};

TEST_P(DomainTest, Registrable) {
  EXPECT_EQ(RegistrableDomain(GetParam().input), GetParam().expected);
}

const std::vector<DomainCase>& DomainCases() {
  static const auto* const kCases = new std::vector<DomainCase>{
      DomainCase{"bare", "acme.com", "acme.com"},
      DomainCase{"www", "WWW.ACME.COM", "acme.com"},
      DomainCase{"two_level_suffix", "shop.acme.co.uk", "acme.co.uk"},
      DomainCase{"deep_two_level_suffix", "a.b.c.acme.com.au", "acme.com.au"},
      DomainCase{"full_url", "https://www.Acme.com:8443/x?y#z", "acme.com"},
      DomainCase{"url_with_user_info", "http://user:pw@Shop.Acme.co.uk:8080/x", "acme.co.uk"},
      DomainCase{"scheme_relative", "//cdn.acme.com/x.js", "acme.com"},
      DomainCase{"url_in_query", "acme.com/go?to=http://evil.example.org", "acme.com"},
      DomainCase{"host_and_port", "acme.com:8080", "acme.com"},
      DomainCase{"trailing_dot", "acme.com.", "acme.com"},
      DomainCase{"ideographic_full_stops", "www\u3002acme\u3002com\u3002", "acme.com"},
      DomainCase{"two_trailing_dots", "acme.com..", ""},
      DomainCase{"surrounding_blanks", "  acme.com\n", "acme.com"},
      DomainCase{"email_form", "jane@Mail.Acme.co.uk", "acme.co.uk"},
      DomainCase{"mailto_form", "mailto:jane@acme.com", "acme.com"},
      DomainCase{"bare_public_suffix", "co.uk", ""},
      DomainCase{"bare_tld", "com", ""},
      DomainCase{"ipv4", "192.168.0.1", ""},
      DomainCase{"ipv4_url", "http://10.0.0.1:8080/admin", ""},
      DomainCase{"ipv6_literal", "http://[2001:db8::1]:443/", ""},
      DomainCase{"ipv6_bare", "2001:db8::1", ""},
      DomainCase{"localhost", "localhost", ""},
      DomainCase{"localhost_port", "http://localhost:3000", ""},
      DomainCase{"idn", "bücher.de", "xn--bcher-kva.de"},
      DomainCase{"idn_upper_in_url", "https://www.BÜCHER.de/shop", "xn--bcher-kva.de"},
      DomainCase{"a_label", "shop.xn--bcher-kva.de", "xn--bcher-kva.de"},
      DomainCase{"private_suffix_site", "foo.github.io", "foo.github.io"},
      DomainCase{"private_suffix_www", "www.foo.github.io", "foo.github.io"},
      DomainCase{"private_suffix_itself", "github.io", ""},
      DomainCase{"unlisted_tld_star_rule", "intranet.acme.internal", "acme.internal"},
      DomainCase{"empty", "", ""},
      DomainCase{"not_applicable", "n/a", ""},
      DomainCase{"space_inside", "acme .com", ""},
      DomainCase{"underscore", "ac_me.com", ""},
      DomainCase{"empty_label", "acme..com", ""}};
  return *kCases;
}

INSTANTIATE_TEST_SUITE_P(Domain, DomainTest, ::testing::ValuesIn(DomainCases()),
                         CaseName<DomainCase>);

// --- CompanyNameKey ------------------------------------------------------------------------

struct CompanyCase {
  std::string name;
  std::string input;
  std::string expected;
};

void PrintTo(const CompanyCase& c, std::ostream* os) {
  PrintCase(c, os);
}

class CompanyTest : public ::testing::TestWithParam<CompanyCase> {};

TEST_P(CompanyTest, Key) {
  EXPECT_EQ(CompanyNameKey(GetParam().input), GetParam().expected);
}

const std::vector<CompanyCase>& CompanyCases() {
  static const auto* const kCases = new std::vector<CompanyCase>{
      CompanyCase{"comma_inc_dot", "ACME, Inc.", "acme"}, CompanyCase{"inc", "Acme Inc", "acme"},
      CompanyCase{"bare", "acme", "acme"}, CompanyCase{"incorporated", "Acme Incorporated", "acme"},
      CompanyCase{"corp_trademark", "Acme Corp.\u2122", "acme"},
      CompanyCase{"llc_upper", "ACME LLC", "acme"},
      // Diacritics are removed, not transcribed: "ü" -> "u", so "Müller" != "Mueller".
      CompanyCase{"umlaut_gmbh", "Müller GmbH", "muller"},
      CompanyCase{"transcribed_umlaut", "Mueller GmbH", "mueller"},
      CompanyCase{"sharp_s_case_folds", "Straße AG", "strasse"},
      CompanyCase{"ampersand_ltd", "Smith & Sons Ltd", "smith and sons"},
      CompanyCase{"and_limited", "Smith and Sons Limited", "smith and sons"},
      CompanyCase{"plus_as_and", "Smith+Sons", "smith and sons"},
      CompanyCase{"leading_the_and_company", "The Boring Company", "boring"},
      CompanyCase{"sa_dotted", "Nestlé S.A.", "nestle"},
      CompanyCase{"accents", "Crédit Agricole S.A.", "credit agricole"},
      CompanyCase{"gmbh_and_co_kg", "Foo GmbH & Co. KG", "foo"},
      CompanyCase{"and_co", "Acme & Co", "acme"}, CompanyCase{"spa", "Ferrari S.p.A.", "ferrari"},
      CompanyCase{"srl", "Rossi S.r.l.", "rossi"}, CompanyCase{"bv", "Acme B.V.", "acme"},
      CompanyCase{"nv", "Unilever N.V.", "unilever"},
      CompanyCase{"pty_ltd", "Atlassian Pty. Ltd.", "atlassian"},
      CompanyCase{"kk", "Acme K.K.", "acme"}, CompanyCase{"danish_a_s", "Ørsted A/S", "ørsted"},
      CompanyCase{"polish_sp_z_oo", "Acme sp. z o.o.", "acme"},
      CompanyCase{"mexican_sa_de_cv", "Cemex, S.A.B. de C.V.", "cemex"},
      CompanyCase{"se", "Allianz SE", "allianz"}, CompanyCase{"oyj", "Nokia Oyj", "nokia"},
      CompanyCase{"ab", "Spotify AB", "spotify"},
      CompanyCase{"corporation_kept_words", "Toyota Motor Corporation", "toyota motor"},
      CompanyCase{"inner_ampersand", "AT&T Inc.", "at and t"},
      CompanyCase{"procter", "Procter & Gamble Co.", "procter and gamble"},
      CompanyCase{"apostrophe", "O\u2019Reilly Media, Inc.", "oreilly media"},
      CompanyCase{"hyphen_splits", "Hewlett-Packard", "hewlett packard"},
      CompanyCase{"digits", "3M Company", "3m"},
      CompanyCase{"fullwidth_nfkc", "\uff21\uff23\uff2d\uff25\u3000\uff23\uff4f\uff52\uff50",
                  "acme"},
      CompanyCase{"ligature_nfkc", "\ufb01nance ltd", "finance"},
      CompanyCase{"collapse_blanks", "  Big \t  Data\n Co ", "big data"},
      CompanyCase{"inc_alone", "Inc.", ""}, CompanyCase{"ampersand_alone", " & ", ""},
      CompanyCase{"dangling_ampersand", "Smith &", "smith"},
      CompanyCase{"the_company_alone", "The Company", ""}, CompanyCase{"empty", "", ""},
      CompanyCase{"punctuation_only", " ,.;!? ", ""},
      CompanyCase{"cjk_kept", "株式会社 トヨタ", "株式会社 トヨタ"}};
  return *kCases;
}

INSTANTIATE_TEST_SUITE_P(Company, CompanyTest, ::testing::ValuesIn(CompanyCases()),
                         CaseName<CompanyCase>);

// --- Properties over a generated corpus ----------------------------------------------------

constexpr unsigned kSeed = 20240611;
constexpr int kVariantsPerBase = 40;

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

bool Coin(std::mt19937& rng) {
  return std::bernoulli_distribution(0.5)(rng);
}

std::string RandomCase(std::mt19937& rng, const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (std::isalpha(static_cast<unsigned char>(c)) && Coin(rng)) {
      c = static_cast<char>(std::isupper(static_cast<unsigned char>(c))
                                ? std::tolower(static_cast<unsigned char>(c))
                                : std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::string RandomBlanks(std::mt19937& rng) {
  static const std::vector<std::string> kBlanks = {"", " ", "\t", "  ", "\n", "\u00a0"};
  return Pick(rng, kBlanks);
}

struct EmailBase {
  std::string local;
  std::string domain;
  bool gmail;      // dots ignored
  bool plus_tags;  // "+tag" ignored
};

std::vector<std::string> EmailVariants(std::mt19937& rng, const EmailBase& b) {
  static const std::vector<std::string> kTags = {"+x", "+news", "+a.b", "+crm-2024", "+"};
  std::vector<std::string> out;
  for (int i = 0; i < kVariantsPerBase; ++i) {
    std::string local = b.local;
    if (b.gmail && Coin(rng)) {
      for (size_t pos = local.size() - 1; pos > 0; --pos) {
        if (local[pos] != '.' && local[pos - 1] != '.' && Coin(rng)) local.insert(pos, ".");
      }
    }
    if (b.plus_tags && Coin(rng)) local += Pick(rng, kTags);
    std::string domain = b.domain;
    if (b.gmail && Coin(rng)) domain = "googlemail.com";
    if (Coin(rng)) domain += ".";
    std::string address = RandomCase(rng, local) + "@" + RandomCase(rng, domain);
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
      case 0:
        break;
      case 1:
        address = "<" + address + ">";
        break;
      case 2:
        address = RandomCase(rng, "mailto:") + address;
        break;
      case 3:
        address = "<mailto:" + address + ">";
        break;
    }
    out.push_back(RandomBlanks(rng) + address + RandomBlanks(rng));
  }
  return out;
}

TEST(EmailTest, KeepPlusTagsDomainsKeepTheirTags) {
  const std::vector<std::string> keep = {"acme.com", "gmail.com", "xn--bcher-kva.de"};
  const EmailRules rules{keep};
  EXPECT_EQ(NormalizeEmail("Jane+Sales@ACME.com", rules)->address, "jane+sales@acme.com");
  EXPECT_EQ(NormalizeEmail("jane+sales@b\u00fccher.de", rules)->address,
            "jane+sales@xn--bcher-kva.de");
  // Gmail still ignores dots; only the tag rule is configured.
  EXPECT_EQ(NormalizeEmail("ja.ne+x@gmail.com", rules)->address, "jane+x@gmail.com");
  EXPECT_EQ(NormalizeEmail("jane+sales@other.com", rules)->address, "jane@other.com");
  EXPECT_EQ(NormalizeEmail("jane+sales@sub.acme.com", rules)->address, "jane@sub.acme.com")
      << "a domain is matched exactly, not its subdomains";
}

TEST(EmailProperties, EquivalentSpellingsShareOneAddressAndResultsAreFixedPoints) {
  std::mt19937 rng(kSeed);
  const std::vector<EmailBase> bases = {
      {"janedoe", "gmail.com", true, true},    {"mark.smith", "outlook.com", false, true},
      {"li", "icloud.com", false, true},       {"jane.doe", "acme.com", false, true},
      {"j+sales", "acme.co.uk", false, false}, {"müller", "bücher.de", false, false},
      {"o'neil", "proton.me", false, true},    {"a.b.c", "example.org", false, false},
  };
  int checked = 0;
  for (const EmailBase& b : bases) {
    const absl::StatusOr<Email> want = NormalizeEmail(b.local + "@" + b.domain);
    ASSERT_TRUE(want.ok()) << want.status();
    for (const std::string& v : EmailVariants(rng, b)) {
      const absl::StatusOr<Email> got = NormalizeEmail(v);
      ASSERT_TRUE(got.ok()) << v << ": " << got.status();
      EXPECT_EQ(got->address, want->address) << v;
      const absl::StatusOr<Email> again = NormalizeEmail(got->address);
      ASSERT_TRUE(again.ok()) << got->address;
      EXPECT_EQ(again->address, got->address);
      EXPECT_EQ(again->local, got->local);
      EXPECT_EQ(again->domain, got->domain);
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(bases.size()) * kVariantsPerBase);
}

struct PhoneBase {
  std::string e164;
  std::string country_code;  // digits after "+"
  std::string national;      // national significant number
  std::string region;
  std::string trunk;  // national prefix: "0", or "1"/"" for NANP
};

std::string WithSeparators(std::mt19937& rng, const std::string& digits) {
  static const std::vector<std::string> kSeps = {"", "", "", " ", "-", "."};
  const std::string sep = Pick(rng, kSeps);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && i % 3 == 0 && Coin(rng)) out += sep;
    out.push_back(digits[i]);
  }
  return out;
}

TEST(PhoneProperties, EquivalentSpellingsShareOneE164AndResultsAreFixedPoints) {
  std::mt19937 rng(kSeed);
  const std::vector<PhoneBase> bases = {
      {"+14155552671", "1", "4155552671", "US", "1"},
      {"+442079460958", "44", "2079460958", "GB", "0"},
      {"+49301234567", "49", "301234567", "DE", "0"},
      {"+33123456789", "33", "123456789", "FR", "0"},
      {"+61291234567", "61", "291234567", "AU", "0"},
  };
  int checked = 0;
  for (const PhoneBase& b : bases) {
    for (int i = 0; i < kVariantsPerBase; ++i) {
      std::string text;
      std::string region = Coin(rng) ? b.region : RandomCase(rng, b.region);
      switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
        case 0:
          text = "+" + b.country_code + " " + WithSeparators(rng, b.national);
          region = Coin(rng) ? "" : region;
          break;
        case 1:
          text = "+" + b.country_code + WithSeparators(rng, b.national);
          break;
        case 2:  // "00" international prefix: native in GB/DE/FR, read as "+" elsewhere
          text = "00" + b.country_code + " " + WithSeparators(rng, b.national);
          break;
        case 3:
          text = (b.trunk.empty() || Coin(rng) ? b.trunk : "") + WithSeparators(rng, b.national);
          if (b.country_code == "1" && Coin(rng))
            text = "(" + b.national.substr(0, 3) + ") " + b.national.substr(3);
          break;
      }
      text = RandomBlanks(rng) + text + RandomBlanks(rng);
      const absl::StatusOr<Phone> got = NormalizePhone(text, region);
      ASSERT_TRUE(got.ok()) << text << " [" << region << "]: " << got.status();
      EXPECT_EQ(got->e164, b.e164) << text << " [" << region << "]";
      EXPECT_EQ(got->extension, "");
      for (const char* any_region : {"", "US", "JP"}) {
        const absl::StatusOr<Phone> again = NormalizePhone(got->e164, any_region);
        ASSERT_TRUE(again.ok()) << got->e164;
        EXPECT_EQ(again->e164, got->e164);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(bases.size()) * kVariantsPerBase);
}

TEST(DomainProperties, UrlDecorationsAndSubdomainsDoNotChangeTheRegistrableDomain) {
  std::mt19937 rng(kSeed);
  struct Base {
    std::string written;  // as a user may type it
    std::string registrable;
  };
  const std::vector<Base> bases = {
      {"acme.com", "acme.com"},
      {"acme.co.uk", "acme.co.uk"},
      {"foo.github.io", "foo.github.io"},
      {"bücher.de", "xn--bcher-kva.de"},
      {"xn--bcher-kva.de", "xn--bcher-kva.de"},
      {"initech.com.au", "initech.com.au"},
  };
  static const std::vector<std::string> kSubdomains = {"", "www.", "shop.", "a.b.", "WWW.eu."};
  static const std::vector<std::string> kSchemes = {"", "http://", "https://", "HTTPS://", "//"};
  static const std::vector<std::string> kUsers = {"", "", "user@", "user:pw@"};
  static const std::vector<std::string> kPorts = {"", "", ":80", ":8443"};
  static const std::vector<std::string> kTails = {
      "", "/", "/about", "/x?y=1", "#top", "/a/b?c=d#e", "?q=http://other.org"};
  int checked = 0;
  for (const Base& b : bases) {
    ASSERT_EQ(RegistrableDomain(b.written), b.registrable);
    for (int i = 0; i < kVariantsPerBase; ++i) {
      const std::string host =
          Pick(rng, kSubdomains) + RandomCase(rng, b.written) + (Coin(rng) ? "." : "");
      const std::string url = RandomBlanks(rng) + Pick(rng, kSchemes) + Pick(rng, kUsers) + host +
                              Pick(rng, kPorts) + Pick(rng, kTails) + RandomBlanks(rng);
      const std::string got = RegistrableDomain(url);
      EXPECT_EQ(got, b.registrable) << url;
      EXPECT_EQ(RegistrableDomain(got), got);
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(bases.size()) * kVariantsPerBase);
}

// "ABC" -> "ＡＢＣ" (fullwidth forms, which NFKC maps back).
std::string Fullwidth(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c >= '!' && c <= '~') {
      const unsigned cp = 0xFF01 + static_cast<unsigned>(c - '!');
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

TEST(CompanyProperties, SpellingAndLegalFormVariantsShareOneKeyAndKeysAreFixedPoints) {
  std::mt19937 rng(kSeed);
  struct Base {
    std::vector<std::string> words;
    std::string key;
  };
  const std::vector<Base> bases = {
      {{"Acme"}, "acme"},     {{"Smith", "and", "Sons"}, "smith and sons"},
      {{"Boring"}, "boring"}, {{"Big", "Data", "Analytics"}, "big data analytics"},
      {{"Müller"}, "muller"}, {{"Nestlé"}, "nestle"},
  };
  static const std::vector<std::string> kSuffixes = {
      "",         "",     " Inc",  " Inc.",    ", Inc.",         " LLC",
      ", L.L.C.", " Ltd", " Ltd.", " Limited", " Corp.",         " Corporation",
      " GmbH",    " AG",  " S.A.", " SAS",     " S.p.A.",        " B.V.",
      " Pty Ltd", " Co.", " & Co", " Company", " GmbH & Co. KG", " plc",
      " Oy"};
  static const std::vector<std::string> kJoins = {" ", "  ", " \t", " - ", ", "};
  int checked = 0;
  for (const Base& b : bases) {
    for (int i = 0; i < kVariantsPerBase; ++i) {
      std::string name = Coin(rng) ? "" : RandomCase(rng, "The ");
      for (size_t w = 0; w < b.words.size(); ++w) {
        if (w > 0) name += Pick(rng, kJoins);
        std::string word = b.words[w];
        if (word == "and") {
          static const std::vector<std::string> kAnds = {"and", "AND", "&", "+", "＆"};
          word = Pick(rng, kAnds);
        }
        name += word;
      }
      name = RandomCase(rng, name);  // ASCII letters only; "Ü"/"é" stay as written
      if (Coin(rng)) name = Fullwidth(name);
      name = RandomBlanks(rng) + name + RandomCase(rng, Pick(rng, kSuffixes)) + RandomBlanks(rng);
      const std::string got = CompanyNameKey(name);
      EXPECT_EQ(got, b.key) << name;
      EXPECT_EQ(CompanyNameKey(got), got) << name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(bases.size()) * kVariantsPerBase);
}

// Idempotence on every table input the functions accept, not only on the generated corpus.
TEST(Idempotence, HoldsForEveryAcceptedTableInput) {
  for (const EmailCase& c : EmailCases()) {
    const absl::StatusOr<Email> once = NormalizeEmail(c.input);
    if (!once.ok()) continue;
    const absl::StatusOr<Email> twice = NormalizeEmail(once->address);
    ASSERT_TRUE(twice.ok()) << c.name << ": " << twice.status();
    EXPECT_EQ(twice->address, once->address) << c.name;
    EXPECT_EQ(twice->local, once->local) << c.name;
    EXPECT_EQ(twice->domain, once->domain) << c.name;
  }
  for (const PhoneCase& c : PhoneCases()) {
    const absl::StatusOr<Phone> once = NormalizePhone(c.input, c.region);
    if (!once.ok()) continue;
    const absl::StatusOr<Phone> twice = NormalizePhone(once->e164, "");
    ASSERT_TRUE(twice.ok()) << c.name << ": " << twice.status();
    EXPECT_EQ(twice->e164, once->e164) << c.name;
  }
  for (const DomainCase& c : DomainCases()) {
    const std::string once = RegistrableDomain(c.input);
    EXPECT_EQ(RegistrableDomain(once), once) << c.name;
  }
  for (const CompanyCase& c : CompanyCases()) {
    const std::string once = CompanyNameKey(c.input);
    EXPECT_EQ(CompanyNameKey(once), once) << c.name;
  }
}

// --- Thread safety -------------------------------------------------------------------------

// Every input the table and property tests use, as one flat list, with the single-threaded
// result of each function rendered as a string.
struct Probe {
  std::string text;
  std::string region;
};

std::string Render(const Probe& p) {
  std::string out;
  const absl::StatusOr<Email> e = NormalizeEmail(p.text);
  out += e.ok() ? e->address + "|" + e->local + "|" + e->domain : std::string(e.status().message());
  out += "\n";
  const absl::StatusOr<Phone> ph = NormalizePhone(p.text, p.region);
  out += ph.ok() ? ph->e164 + "|" + ph->extension : std::string(ph.status().message());
  out += "\n" + RegistrableDomain(p.text) + "\n" + CompanyNameKey(p.text);
  return out;
}

TEST(ThreadSafety, ConcurrentCallsMatchSingleThreadedResults) {
  std::vector<Probe> probes;
  for (const EmailCase& c : EmailCases()) probes.push_back({c.input, ""});
  for (const PhoneCase& c : PhoneCases()) probes.push_back({c.input, c.region});
  for (const DomainCase& c : DomainCases()) probes.push_back({c.input, "US"});
  for (const CompanyCase& c : CompanyCases()) probes.push_back({c.input, "de"});
  std::vector<std::string> want;
  want.reserve(probes.size());
  for (const Probe& p : probes) want.push_back(Render(p));

  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 1000;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        const size_t k = static_cast<size_t>(i * 7 + t * 3) % probes.size();
        if (Render(probes[k]) != want[k]) mismatches.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// --- Caches ----------------------------------------------------------------------------------

size_t Bytes(const std::string& s) {
  return s.size();
}
using TestMemo = internal::Memo<std::string, &Bytes>;

TEST(Memo, AnswersRepeatsFromTheCacheAndCountsHitsAndMisses) {
  TestMemo memo("test", 1 << 20);
  int computed = 0;
  auto upper = [&](std::string_view key) {
    return memo.Get(key, [&] {
      ++computed;
      std::string out(key);
      for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return out;
    });
  };
  EXPECT_EQ(upper("acme"), "ACME");
  EXPECT_EQ(upper("acme"), "ACME");
  EXPECT_EQ(upper("globex"), "GLOBEX");
  EXPECT_EQ(computed, 2);
  const CacheStats stats = memo.Stats();
  EXPECT_EQ(stats.name, "test");
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_EQ(stats.bytes, 2 * internal::kMemoEntryOverheadBytes + 4 + 4 + 6 + 6);
}

TEST(Memo, StaysWithinItsBudgetAndKeepsWhatRecurs) {
  constexpr size_t kBudget = 64 * 1024;
  TestMemo memo("test", kBudget);
  int hot_computed = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::string key = absl::StrCat("unique-", i);
    memo.Get(key, [&] { return key; });
    // A value asked for every 100 lookups survives every generation change.
    if (i % 100 == 0) {
      memo.Get("hot", [&] {
        ++hot_computed;
        return std::string("HOT");
      });
    }
    ASSERT_LE(memo.Stats().bytes, kBudget);
  }
  EXPECT_EQ(hot_computed, 1);
  EXPECT_GT(memo.Stats().entries, 100u);  // it is used, not emptied
}

TEST(Memo, LongInputsAndAZeroBudgetAreComputedEveryTime) {
  TestMemo memo("test", 1 << 20);
  const std::string long_key(internal::kMaxMemoKeyBytes + 1, 'a');
  int computed = 0;
  for (int i = 0; i < 3; ++i) memo.Get(long_key, [&] { return std::to_string(++computed); });
  EXPECT_EQ(computed, 3);
  EXPECT_EQ(memo.Stats().entries, 0u);
  TestMemo off("off", 0);
  for (int i = 0; i < 3; ++i) off.Get("k", [&] { return std::to_string(++computed); });
  EXPECT_EQ(computed, 6);
  EXPECT_EQ(off.Stats().entries, 0u);
}

std::string RenderPhone(const absl::StatusOr<Phone>& phone) {
  return phone.ok() ? absl::StrCat("ok ", phone->e164, " ", phone->extension)
                    : absl::StrCat("error ", phone.status().ToString());
}

// Inputs shaped like a day of leads: phone numbers of several countries written several ways
// (valid, unassigned ranges, too short), company names and websites from a pool that recurs,
// each with case, blank and legal-form variants.
struct LeadInputs {
  std::string phone, region, company, website;
};
LeadInputs GeneratedLeadInputs(std::mt19937& rng) {
  static const std::vector<std::pair<std::string, std::string>> kCountries = {
      {"US", "1"},  {"CA", "1"},  {"DE", "49"}, {"GB", "44"}, {"FR", "33"},
      {"JP", "81"}, {"BR", "55"}, {"IN", "91"}, {"", "1"},    {"zz", "61"}};
  static const std::vector<std::string> kForms = {", Inc.", " GmbH",     " Ltd", " S.A.",
                                                  "",       " & Co. KG", " LLC", " Corporation"};
  const auto& [region, cc] = Pick(rng, kCountries);
  const std::string national =
      absl::StrCat(200 + rng() % 700, 100 + rng() % 900, 1000 + rng() % 9000);
  std::string phone;
  switch (rng() % 5) {
    case 0:
      phone = absl::StrCat("+", cc, " ", national);
      break;
    case 1:
      phone = absl::StrCat("00", cc, ".", national.substr(0, 3), ".", national.substr(3));
      break;
    case 2:
      phone = absl::StrCat("(", national.substr(0, 3), ") ", national.substr(3, 3), "-",
                           national.substr(6), rng() % 4 == 0 ? " ext. 12" : "");
      break;
    case 3:
      phone = national.substr(0, 5 + rng() % 5);
      break;
    case 4:
      phone = absl::StrCat("+", cc, national);
      break;
  }
  const uint32_t company = rng() % 2000;  // recurs, as companies do
  LeadInputs in;
  in.phone = RandomBlanks(rng) + phone;
  in.region = region;
  // Mostly written the same way (one CRM field, one form), now and then differently.
  const std::string name =
      absl::StrCat("Company ", company, company % 8 == 0 ? "" : kForms[company % 8]);
  in.company = rng() % 10 == 0 ? RandomCase(rng, name) + Pick(rng, kForms) : name;
  static const std::vector<std::string> kSuffixes = {".com", ".co.uk", ".de/x?q=1"};
  in.website = absl::StrCat(company % 2 == 0 ? "https://www." : "", "Company-", company,
                            kSuffixes[company % kSuffixes.size()]);
  return in;
}

// PhoneKeyForMatching's contract, from the uncached functions: the E.164 form, else the fallback.
std::optional<PhoneMatchKey> UncachedComposedKey(const std::string& raw,
                                                 const std::string& region) {
  if (auto phone = uncached::NormalizePhone(raw, region); phone.ok()) {
    return PhoneMatchKey{phone->e164, false};
  }
  if (auto fallback = uncached::PhoneFallbackKey(raw, region))
    return PhoneMatchKey{*fallback, true};
  return std::nullopt;
}

// The cached entry points return exactly what the uncached functions compute: on every table
// input, asked twice (the second time from the cache), and on generated lead inputs that recur
// (LEADROUTER_CACHE_CHECK_LEADS of them, default 10,000; BENCHMARKS.md records a 1,000,000 run).
TEST(Caches, CachedResultsAreTheUncachedResultsByteForByte) {
  std::vector<Probe> probes;
  for (const PhoneCase& c : PhoneCases()) probes.push_back({c.input, c.region});
  for (const DomainCase& c : DomainCases()) probes.push_back({c.input, "US"});
  for (const CompanyCase& c : CompanyCases()) probes.push_back({c.input, "de"});
  for (int round = 0; round < 2; ++round) {
    for (const Probe& p : probes) {
      ASSERT_EQ(RenderPhone(NormalizePhone(p.text, p.region)),
                RenderPhone(uncached::NormalizePhone(p.text, p.region)))
          << p.text;
      ASSERT_EQ(PhoneFallbackKey(p.text, p.region), uncached::PhoneFallbackKey(p.text, p.region))
          << p.text;
      ASSERT_EQ(PhoneKeyForMatching(p.text, p.region), UncachedComposedKey(p.text, p.region))
          << p.text;
      ASSERT_EQ(RegistrableDomain(p.text), uncached::RegistrableDomain(p.text)) << p.text;
      ASSERT_EQ(CompanyNameKey(p.text), uncached::CompanyNameKey(p.text)) << p.text;
    }
  }
  const char* env = std::getenv("LEADROUTER_CACHE_CHECK_LEADS");
  const long leads = env != nullptr ? std::atol(env) : 10000;
  const std::vector<CacheStats> before = CacheStatistics();
  std::mt19937 rng(kSeed);
  for (long i = 0; i < leads; ++i) {
    const LeadInputs in = GeneratedLeadInputs(rng);
    ASSERT_EQ(RenderPhone(NormalizePhone(in.phone, in.region)),
              RenderPhone(uncached::NormalizePhone(in.phone, in.region)))
        << in.phone << " in " << in.region;
    ASSERT_EQ(PhoneFallbackKey(in.phone, in.region),
              uncached::PhoneFallbackKey(in.phone, in.region))
        << in.phone << " in " << in.region;
    ASSERT_EQ(uncached::PhoneKeyForMatching(in.phone, in.region),
              UncachedComposedKey(in.phone, in.region))
        << in.phone << " in " << in.region;
    ASSERT_EQ(PhoneKeyForMatching(in.phone, in.region), UncachedComposedKey(in.phone, in.region))
        << in.phone << " in " << in.region;
    ASSERT_EQ(CompanyNameKey(in.company), uncached::CompanyNameKey(in.company)) << in.company;
    ASSERT_EQ(RegistrableDomain(in.website), uncached::RegistrableDomain(in.website)) << in.website;
  }
  // The recurring companies and websites were answered from the caches.
  const std::vector<CacheStats> after = CacheStatistics();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    const CacheStats& stats = after[i];
    if (stats.name == "company_name" || stats.name == "registrable_domain") {
      EXPECT_GT(stats.hits - before[i].hits, 2 * (stats.misses - before[i].misses)) << stats.name;
    }
    EXPECT_LE(stats.bytes, stats.budget_bytes) << stats.name;
  }
}

// CanonicalHost answers plain ASCII hosts without libidn2; whatever it accepts must be exactly
// what libidn2's UTS #46 lookup gives (less one trailing dot), and what libidn2 refuses it must
// refuse too.
TEST(CanonicalHost, AsciiFastPathAgreesWithLibidn2) {
  std::mt19937 rng(7);
  static const std::vector<std::string> kPieces = {
      "a",    "b",   "z",      "0", "9", "-",  ".",        "--",           "xn--", "xn--bcher-kva",
      "acme", "com", "A",      "Q", "_", "..", "\xc3\xbc", "\xe3\x80\x82", " ",    "io",
      "co",   "uk",  "ab--cd", "x"};
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string host;
    const int pieces = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < pieces; ++k) host += kPieces[rng() % kPieces.size()];
    std::string lower = host;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint8_t* raw = nullptr;
    const int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(lower.c_str()), &raw,
                                  IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    std::string reference = raw == nullptr ? "" : reinterpret_cast<const char*>(raw);
    idn2_free(raw);
    if (!reference.empty() && reference.back() == '.') reference.pop_back();
    const absl::StatusOr<std::string> got = internal::CanonicalHost(host);
    if (rc != IDN2_OK) {
      EXPECT_FALSE(got.ok()) << host;
    } else if (got.ok()) {
      EXPECT_EQ(*got, reference) << host;
      ++accepted;
    }
  }
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace leadrouter::normalize

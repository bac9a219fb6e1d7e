#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "leadrouter/normalize/normalize.h"

namespace leadrouter::normalize {
namespace {

// Longer input is not a company name (and ICU lengths are int32_t).
constexpr size_t kMaxNameBytes = 1 << 20;

// Legal-form suffixes as they look after normalization (case-folded, diacritics removed, dots and
// apostrophes dropped, so "S.p.A." is "spa" and "L.P." is "lp"). No library covers these.
// Removed from the end of a name repeatedly, so "Pty Ltd" and "GmbH & Co. KG" go as a whole.
// In order: English-speaking countries; German-speaking (UG (haftungsbeschränkt) included);
// Romance languages; Benelux, the Nordics, Central Europe and the EU; Asia.
constexpr std::string_view kLegalSuffixes[] = {
    "inc",     "incorporated", "corp", "corporation", "co",
    "company", "llc",          "llp",  "lp",          "ltd",
    "limited", "plc",          "pty",  "pte",         "pvt",
    "lllp",    "pllc",         "gmbh", "mbh",         "ag",
    "kg",      "kgaa",         "ohg",  "ug",          "haftungsbeschrankt",
    "sa",      "sas",          "sasu", "sarl",        "sca",
    "spa",     "srl",          "sl",   "slu",         "sau",
    "lda",     "ltda",         "sapa", "bv",          "nv",
    "bvba",    "vof",          "oy",   "oyj",         "ab",
    "as",      "asa",          "aps",  "se",          "sro",
    "kft",     "zrt",          "nyrt", "doo",         "kk",
    "bhd",     "sdn"};

// Multi-word forms whose words are not suffixes on their own ("z", "de" and "cv" are ordinary
// words elsewhere), matched as a whole at the end: "A/S", "sp. z o.o.", "S.A. de C.V.".
constexpr std::array<std::array<std::string_view, 5>, 7> kLegalPhrases = {{
    {"a", "s"},  // Danish/Norwegian "A/S"
    {"s", "a"},  // "S/A", "S. A."
    {"sp", "z", "oo"},
    {"sa", "de", "cv"},
    {"sab", "de", "cv"},
    {"s", "de", "rl", "de", "cv"},
    {"s", "de", "rl"},
}};

bool IsLegalSuffix(std::string_view word) {
  for (const std::string_view s : kLegalSuffixes) {
    if (word == s) return true;
  }
  return false;
}

// The number of trailing words a legal form covers (0 when none).
size_t LegalFormWords(const std::vector<std::string>& words) {
  if (!words.empty() && IsLegalSuffix(words.back())) return 1;
  for (const auto& phrase : kLegalPhrases) {
    size_t n = 0;
    while (n < phrase.size() && !phrase[n].empty()) ++n;
    if (n == 0 || n > words.size()) continue;
    bool match = true;
    for (size_t i = 0; i < n && match; ++i) match = words[words.size() - n + i] == phrase[i];
    if (match) return n;
  }
  return 0;
}

// Removes legal forms from the end (with an "and" that joined them: "Smith & Co" -> "smith"), a
// leading "the", and an "and" left at either end, until none applies: the result is a fixed point.
void StripNoise(std::vector<std::string>& words) {
  for (bool changed = true; changed && !words.empty();) {
    changed = false;
    if (const size_t n = LegalFormWords(words); n > 0) {
      words.resize(words.size() - n);
      if (!words.empty() && words.back() == "and") words.pop_back();
      changed = true;
    }
    if (!words.empty() && (words.front() == "the" || words.front() == "and")) {
      words.erase(words.begin());
      changed = true;
    }
    if (!words.empty() && words.back() == "and") {  // "Smith &": a dangling connector
      words.pop_back();
      changed = true;
    }
  }
}

// "NFD; [:Nonspacing Mark:] Remove; NFC": strips accents ("é" -> "e"), keeps letters that do not
// decompose ("ø", "ł", "æ" stay). Created once (compiling the rules is the expensive part).
// ICU Transliterators are not safe for concurrent transliterate() calls, so each thread works on
// its own clone, made once per thread (under a mutex, as cloning reads the shared prototype):
// no lock on the hot path, unlike a shared instance behind a mutex, and no per-call clone cost.
// nullptr if ICU cannot build it (its data is compiled into libicudata, so it always can).
const icu::Transliterator* StripMarksPrototype() {
  static const icu::Transliterator* const kPrototype = [] {
    UErrorCode status = U_ZERO_ERROR;
    icu::Transliterator* t = icu::Transliterator::createInstance(
        "NFD; [:Nonspacing Mark:] Remove; NFC", UTRANS_FORWARD, status);
    if (U_FAILURE(status)) {
      delete t;
      return static_cast<icu::Transliterator*>(nullptr);
    }
    return t;  // never freed: it outlives every thread that may clone it
  }();
  return kPrototype;
}

icu::Transliterator* StripMarks() {
  thread_local const std::unique_ptr<icu::Transliterator> kClone = [] {
    static std::mutex clone_mu;
    const icu::Transliterator* prototype = StripMarksPrototype();
    if (prototype == nullptr) return std::unique_ptr<icu::Transliterator>();
    const std::lock_guard<std::mutex> lock(clone_mu);
    return std::unique_ptr<icu::Transliterator>(prototype->clone());
  }();
  return kClone.get();
}

bool IsWordChar(UChar32 c) {
  const uint32_t mask = U_GET_GC_MASK(c);
  return (mask & (U_GC_L_MASK | U_GC_N_MASK | U_GC_M_MASK)) != 0;
}

// Dropped without splitting the word: "S.A." -> "sa", "O'Brien" -> "obrien".
bool IsJoiner(UChar32 c) {
  return c == '.' || c == '\'' || c == 0x2019 /* RIGHT SINGLE QUOTATION MARK */ ||
         c == 0x02BC /* MODIFIER LETTER APOSTROPHE */;
}

}  // namespace

std::string uncached::CompanyNameKey(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return "";
  // Invalid UTF-8 becomes U+FFFD, a symbol, and so a word break.
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(name.data(), static_cast<int32_t>(name.size())));
  // NFKC spells these out as letters ("Acme™" would become "acmetm"): drop them first.
  text.findAndReplace(icu::UnicodeString(static_cast<UChar32>(0x2122)), " ");  // TRADE MARK SIGN
  text.findAndReplace(icu::UnicodeString(static_cast<UChar32>(0x2120)), " ");  // SERVICE MARK

  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) return "";
  text = nfkc_cf->normalize(text, status);  // fullwidth -> ASCII, "ﬁ" -> "fi", "ß" -> "ss"
  if (U_FAILURE(status)) return "";
  if (icu::Transliterator* strip = StripMarks(); strip != nullptr) strip->transliterate(text);

  std::vector<std::string> words;
  icu::UnicodeString word;
  const auto end_word = [&] {
    if (word.isEmpty()) return;
    words.emplace_back();
    word.toUTF8String(words.back());
    word.remove();
  };
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    if (c == '&' || c == '+') {
      end_word();
      words.emplace_back("and");
    } else if (IsJoiner(c)) {
      continue;
    } else if (IsWordChar(c)) {
      word.append(c);
    } else {
      end_word();  // white space, punctuation, symbols
    }
  }
  end_word();

  StripNoise(words);
  std::string key;
  for (const std::string& w : words) {
    if (!key.empty()) key.push_back(' ');
    key += w;
  }
  return key;
}

}  // namespace leadrouter::normalize

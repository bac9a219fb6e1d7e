#pragma once

// Private to leadrouter::normalize: bounded memoization of the pure normalizers, whose inputs
// recur (the same company names, websites and phone numbers come back lead after lead).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "leadrouter/normalize/normalize.h"

namespace leadrouter::normalize::internal {

// Inputs longer than this are computed every time and never stored, so one entry's size is
// bounded whatever the input.
inline constexpr size_t kMaxMemoKeyBytes = 256;

// What an entry is charged: its key and value bytes plus the map's and strings' overhead
// (an estimate: what matters is that the budget bounds the entry count).
inline constexpr size_t kMemoEntryOverheadBytes = 96;

// Exact results of a pure function of one string, within a byte budget: two generations of at
// most budget / 2 each; a lookup that misses the current one but hits the previous moves the
// entry to the current one; when the current one is full it becomes the previous one (the old
// previous is dropped). So recurring inputs stay, a burst of unique ones cannot grow memory,
// and every operation is O(1). `Size(value)` says how many bytes a value holds beyond its
// object. Thread-safe (one mutex; the computation runs outside it).
template <typename Value, size_t (*Size)(const Value&)>
class Memo {
 public:
  Memo(std::string_view name, size_t budget_bytes) : name_(name), budget_bytes_(budget_bytes) {}
  Memo(const Memo&) = delete;
  Memo& operator=(const Memo&) = delete;

  // The cached result for `key`, else compute() (called without the lock), stored.
  template <typename Compute>
  Value Get(std::string_view key, Compute&& compute) {
    if (key.size() > kMaxMemoKeyBytes || budget_bytes_ == 0) return compute();
    const absl::string_view lookup(key.data(), key.size());  // absl's own view type
    {
      std::lock_guard lock(mu_);
      if (auto it = current_.find(lookup); it != current_.end()) {
        ++hits_;
        return it->second;
      }
      if (auto it = previous_.find(lookup); it != previous_.end()) {
        ++hits_;
        previous_bytes_ -= Charge(key, it->second);
        Value value = std::move(it->second);
        previous_.erase(it);
        InsertLocked(key, value);
        return value;
      }
      ++misses_;
    }
    Value value = compute();
    std::lock_guard lock(mu_);
    if (!current_.contains(lookup)) InsertLocked(key, value);
    return value;
  }

  CacheStats Stats() const {
    std::lock_guard lock(mu_);
    return CacheStats{.name = name_,
                      .hits = hits_,
                      .misses = misses_,
                      .entries = current_.size() + previous_.size(),
                      .bytes = current_bytes_ + previous_bytes_,
                      .budget_bytes = budget_bytes_};
  }

 private:
  static size_t Charge(std::string_view key, const Value& value) {
    return key.size() + Size(value) + kMemoEntryOverheadBytes;
  }

  void InsertLocked(std::string_view key, const Value& value) {
    const size_t charge = Charge(key, value);
    if (current_bytes_ + charge > budget_bytes_ / 2) {
      previous_ = std::move(current_);
      previous_bytes_ = current_bytes_;
      current_ = {};
      current_bytes_ = 0;
    }
    current_.emplace(std::string(key), value);
    current_bytes_ += charge;
  }

  const std::string_view name_;
  const size_t budget_bytes_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Value> current_;
  absl::flat_hash_map<std::string, Value> previous_;
  size_t current_bytes_ = 0;
  size_t previous_bytes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace leadrouter::normalize::internal

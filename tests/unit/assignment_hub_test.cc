#include "leadrouter/api/assignment_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace leadrouter::api {
namespace {

class RecordingSink : public AssignmentSink {
 public:
  void Offer(const SharedAssignment& a) override {
    std::lock_guard lock(mu_);
    if (!closed_) received_.push_back(a->lead_id());
  }
  void Close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  std::vector<std::string> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  bool closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> received_;
  bool closed_ = false;
};

SharedAssignment Assignment(const std::string& lead_id) {
  auto a = std::make_shared<v1::AssignmentEvent>();
  a->set_lead_id(lead_id);
  return a;
}

TEST(AssignmentHubTest, EverySinkGetsEveryAssignmentInOrder) {
  std::vector<size_t> counts;
  AssignmentHub hub([&counts](size_t n) { counts.push_back(n); });
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  hub.Add(a);
  hub.Add(b);
  hub.Publish({Assignment("l1"), Assignment("l2")});
  hub.Publish({Assignment("l3")});
  EXPECT_EQ(a->received(), (std::vector<std::string>{"l1", "l2", "l3"}));
  EXPECT_EQ(b->received(), a->received());
  hub.Remove(a.get());
  hub.Publish({Assignment("l4")});
  EXPECT_EQ(a->received().size(), 3u);
  EXPECT_EQ(b->received().size(), 4u);
  EXPECT_EQ(counts, (std::vector<size_t>{1, 2, 1}));
}

TEST(AssignmentHubTest, CloseAllClosesCurrentAndLaterSinks) {
  AssignmentHub hub;
  auto a = std::make_shared<RecordingSink>();
  hub.Add(a);
  hub.CloseAll();
  EXPECT_TRUE(a->closed());
  auto late = std::make_shared<RecordingSink>();
  hub.Add(late);
  EXPECT_TRUE(late->closed());
  EXPECT_EQ(hub.size(), 1u);
}

// A sink that removes itself from inside Offer, as a stream does when its client is too slow.
class SelfRemovingSink : public AssignmentSink {
 public:
  explicit SelfRemovingSink(AssignmentHub& hub) : hub_(hub) {}
  void Offer(const SharedAssignment&) override { hub_.Remove(this); }
  void Close() override {}

 private:
  AssignmentHub& hub_;
};

TEST(AssignmentHubTest, SinkMayRemoveItselfWhileBeingOffered) {
  AssignmentHub hub;
  hub.Add(std::make_shared<SelfRemovingSink>(hub));
  hub.Publish({Assignment("l1")});
  EXPECT_EQ(hub.size(), 0u);
}

TEST(AssignmentHubTest, ConcurrentPublishAndSubscribe) {
  AssignmentHub hub;
  auto steady = std::make_shared<RecordingSink>();
  hub.Add(steady);
  std::atomic<bool> done{false};
  std::thread churn([&] {
    while (!done) {
      auto s = std::make_shared<RecordingSink>();
      hub.Add(s);
      hub.Remove(s.get());
    }
  });
  for (int i = 0; i < 2000; ++i) hub.Publish({Assignment(std::to_string(i))});
  done = true;
  churn.join();
  EXPECT_EQ(steady->received().size(), 2000u);
}

}  // namespace
}  // namespace leadrouter::api

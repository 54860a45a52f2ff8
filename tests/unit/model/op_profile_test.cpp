// OpProfile: exact call counts of known operator sequences, self time without the operators an
// operator calls, other threads, and one profile at a time.
#include "neuralom/model/op_profile.h"

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace neuralom {
namespace {

const OpTime* find(const std::vector<OpTime>& ops, const std::string& name) {
  for (const OpTime& op : ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

TEST(OpProfile, CountsEachCallOfEachOperator) {
  const at::Tensor a = at::ones({64, 32});
  const at::Tensor b = at::ones({32, 16});
  OpProfile profile;
  for (int i = 0; i < 3; ++i) (void)at::mm(a, b);
  (void)at::sigmoid(a);
  const std::vector<OpTime> ops = profile.stop();
  const OpTime* mm = find(ops, "aten::mm");
  const OpTime* sigmoid = find(ops, "aten::sigmoid");
  ASSERT_NE(mm, nullptr);
  ASSERT_NE(sigmoid, nullptr);
  EXPECT_EQ(mm->calls, 3);
  EXPECT_EQ(sigmoid->calls, 1);
  EXPECT_GT(mm->total_seconds, 0.0);
  EXPECT_LE(mm->self_seconds, mm->total_seconds);
}

TEST(OpProfile, SelfTimeLeavesOutTheOperatorsCalled) {
  // aten::linear with a bias calls aten::addmm (and a transpose): its self time is its total
  // less theirs.
  const at::Tensor x = at::randn({512, 256});
  const at::Tensor w = at::randn({256, 256});
  const at::Tensor bias = at::randn({256});
  OpProfile profile;
  for (int i = 0; i < 4; ++i) (void)at::linear(x, w, bias);
  const std::vector<OpTime> ops = profile.stop();
  const OpTime* linear = find(ops, "aten::linear");
  const OpTime* addmm = find(ops, "aten::addmm");
  ASSERT_NE(linear, nullptr);
  ASSERT_NE(addmm, nullptr);
  EXPECT_EQ(linear->calls, 4);
  EXPECT_EQ(addmm->calls, 4);
  EXPECT_GE(linear->total_seconds, addmm->total_seconds);
  EXPECT_LT(linear->self_seconds, linear->total_seconds - addmm->total_seconds + 1e-9);
  // The operators called by linear, and linear's own remainder, make up its total.
  double inner = 0.0;
  for (const OpTime& op : ops) {
    if (op.name != "aten::linear") inner += op.self_seconds;
  }
  EXPECT_NEAR(linear->self_seconds + inner, linear->total_seconds, 1e-3 * linear->total_seconds + 1e-6);
}

TEST(OpProfile, SortedBySelfTimeLargestFirst) {
  const at::Tensor big = at::ones({1024, 1024});
  OpProfile profile;
  (void)at::mm(big, big);
  (void)at::neg(at::ones({2}));
  const std::vector<OpTime> ops = profile.stop();
  ASSERT_GE(ops.size(), 2U);
  for (std::size_t i = 1; i < ops.size(); ++i) EXPECT_GE(ops[i - 1].self_seconds, ops[i].self_seconds) << i;
  EXPECT_EQ(ops.front().name, "aten::mm");  // 2 GFLOP against a handful of tiny operators
}

TEST(OpProfile, RecordsOtherThreads) {
  OpProfile profile;
  std::thread worker([] {
    const at::Tensor t = at::ones({8});
    for (int i = 0; i < 5; ++i) (void)at::exp(t);
  });
  worker.join();
  const std::vector<OpTime> ops = profile.stop();
  const OpTime* exp = find(ops, "aten::exp");
  ASSERT_NE(exp, nullptr);
  EXPECT_EQ(exp->calls, 5);
}

TEST(OpProfile, RecordsOnlyWhileActive) {
  const at::Tensor t = at::ones({8});
  (void)at::cos(t);  // before
  std::vector<OpTime> first;
  {
    OpProfile profile;
    (void)at::cos(t);
    first = profile.stop();
    (void)at::cos(t);  // after stop
    EXPECT_EQ(profile.stop().size(), first.size());  // stop again: the same result
  }
  (void)at::cos(t);  // after destruction
  const OpTime* cos = find(first, "aten::cos");
  ASSERT_NE(cos, nullptr);
  EXPECT_EQ(cos->calls, 1);

  OpProfile second;  // a new profile starts from nothing
  (void)at::cos(t);
  (void)at::cos(t);
  const std::vector<OpTime> ops = second.stop();  // kept: find points into it
  const OpTime* again = find(ops, "aten::cos");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->calls, 2);
}

TEST(OpProfile, OneAtATime) {
  OpProfile profile;
  EXPECT_THROW(OpProfile{}, std::logic_error);
  const at::Tensor t = at::ones({8});
  (void)at::sin(t);
  const std::vector<OpTime> ops = profile.stop();
  const OpTime* sin = find(ops, "aten::sin");
  ASSERT_NE(sin, nullptr);
  EXPECT_EQ(sin->calls, 1);
}

}  // namespace
}  // namespace neuralom

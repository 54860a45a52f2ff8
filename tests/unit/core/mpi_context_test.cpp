// A job of one process: what every run outside mpirun uses.
#include "neuralom/core/mpi_context.h"

#include <csignal>
#include <stdexcept>

#include <gtest/gtest.h>

#include "neuralom/core/errors.h"
#include "neuralom/core/interrupt.h"

namespace neuralom {
namespace {

TEST(MpiContextTest, AJobOfOneRethrowsItsOwnError) {
  MpiContext solo;
  EXPECT_EQ(solo.rank(), 0);
  EXPECT_EQ(solo.size(), 1);
  EXPECT_TRUE(solo.is_root());
  EXPECT_EQ(solo.sum(7), 7);
  std::string bytes = "abc";
  solo.broadcast(bytes);
  EXPECT_EQ(bytes, "abc");
  EXPECT_EQ(solo.gather("xyz"), std::vector<std::string>{"xyz"});
  solo.run_collectively([] {});
  EXPECT_THROW(solo.run_collectively([] { throw InputError("bad day"); }), InputError);
  EXPECT_THROW(solo.agree(std::make_exception_ptr(std::runtime_error("bug"))), std::runtime_error);
}

TEST(MpiContextTest, PeerErrorsCarryTheFailingRanksExitCode) {
  const PeerError quiet("rank 1: bad input", kExitBadInput, false);
  EXPECT_EQ(quiet.exit_code(), kExitBadInput);
  EXPECT_FALSE(quiet.print_here());
  EXPECT_TRUE(InputError("x").print_here());
  EXPECT_EQ(Interrupted("stop", SIGTERM).exit_code(), 128 + SIGTERM);
}

TEST(InterruptGuardTest, RecordsTheSignalInsteadOfEnding) {
  const InterruptGuard guard;
  EXPECT_EQ(guard.signal_received(), 0);
  std::raise(SIGTERM);
  EXPECT_EQ(guard.signal_received(), SIGTERM);
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
}

}  // namespace
}  // namespace neuralom

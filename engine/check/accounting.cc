// SPDX-License-Identifier: MIT
#include "engine/check/accounting.h"

#include "engine/report/report.h"
#include "engine/sched/coverage.h"

namespace reclaimfuzz::check {
namespace {

struct Account {
  const char* what = "";
  int64_t object_id = -1;
  int64_t balance = 0;
  int64_t charged = 0;  // total ever charged, for the report
};

Account g_accounts[kMaxAccounts];
int g_num_accounts = 0;

}  // namespace

// Not in the fuzzer's coverage (engine/sched/coverage.h): what it clears
// is what the previous execution left.
RF_NO_COVERAGE void ResetAccounting() {
  for (Account& a : g_accounts) a = Account{};
  g_num_accounts = 0;
}

int NewAccount(const char* what, int64_t object_id) {
  if (g_num_accounts >= kMaxAccounts) return -1;
  g_accounts[g_num_accounts] = Account{what, object_id, 0, 0};
  return g_num_accounts++;
}

void Charge(int account, int64_t bytes) {
  if (account < 0 || account >= g_num_accounts) return;
  g_accounts[account].balance += bytes;
  if (bytes > 0) g_accounts[account].charged += bytes;
}

int64_t Balance(int account) {
  if (account < 0 || account >= g_num_accounts) return 0;
  return g_accounts[account].balance;
}

int NumAccounts() { return g_num_accounts; }

void CheckAccountsBalanced() {
  for (int i = 0; i < g_num_accounts; ++i) {
    const Account& a = g_accounts[i];
    if (a.balance != 0) {
      Report(kAccounting, a.object_id,
             "%s #%lld: %lld bytes still charged after teardown (%s; %lld bytes charged in all)", a.what,
             static_cast<long long>(a.object_id), static_cast<long long>(a.balance),
             a.balance > 0 ? "a charge was never returned" : "more was uncharged than charged",
             static_cast<long long>(a.charged));
    }
  }
}

}  // namespace reclaimfuzz::check

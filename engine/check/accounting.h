// SPDX-License-Identifier: MIT
// The accounting oracle: a ledger of the memory the model charges to each
// owner (docs/kernel-model.md §7.5).
//
// The model reports every charge and uncharge, and the owner's final
// uncharge of what bpf_local_storage_destroy() returned. After teardown
// every account must be back to zero: a positive balance is a charge that
// was never returned (an error path that forgot to uncharge), a negative one
// an uncharge too many (map_free uncharging after destroy's owner_refcnt
// wait). Only sk charges in the kernel (sk_omem_alloc); the ledger keeps the
// same amounts for every owner so that every owner's paths are checked.
//
// Signal safety: fixed tables, no allocation; charges happen in NMI.
#ifndef RECLAIMFUZZ_ENGINE_CHECK_ACCOUNTING_H_
#define RECLAIMFUZZ_ENGINE_CHECK_ACCOUNTING_H_

#include <cstdint>

namespace reclaimfuzz::check {

// MODEL: owners per execution with an account.
inline constexpr int kMaxAccounts = 64;

void ResetAccounting();
// Opens an account for an owner; `what` is a static string ("task", "sk").
// Returns -1 past kMaxAccounts (charges to -1 are ignored).
int NewAccount(const char* what, int64_t object_id);
void Charge(int account, int64_t bytes);  // negative: uncharge
int64_t Balance(int account);
int NumAccounts();

// Reports `accounting` for the first account that is not back to zero.
// Main context or task; call once teardown has drained everything.
void CheckAccountsBalanced();

}  // namespace reclaimfuzz::check

#endif  // RECLAIMFUZZ_ENGINE_CHECK_ACCOUNTING_H_

// SPDX-License-Identifier: MIT
#include "engine/sched/choice_random.h"

#include "absl/strings/str_cat.h"

namespace reclaimfuzz::sched {

std::string RandomChoice::Describe() const {
  return absl::StrCat("random(seed=", seed_, ", switch=1/", switch_one_in_, ")");
}

}  // namespace reclaimfuzz::sched

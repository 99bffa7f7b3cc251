// SPDX-License-Identifier: MIT
// storage::Model(): the ModelVariant of each registered model variant
// (engine/storage/variants/<ident>.cc), from the generated list.
#include "engine/storage/model_variant.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/storage/variant.h"

namespace reclaimfuzz::storage {

#define RF_MODEL_VARIANT(ident, name) extern const ModelVariant kModel_##ident;
#include "rf_model_variants.inc"
#undef RF_MODEL_VARIANT

namespace {

struct Entry {
  const char* name;
  const ModelVariant* model;
};

constexpr Entry kModels[] = {
#define RF_MODEL_VARIANT(ident, name) {name, &kModel_##ident},
#include "rf_model_variants.inc"
#undef RF_MODEL_VARIANT
};

// Real trees run their own code, never the model's: the free path they
// would reach is V4's (nothing to reset, nothing deferred).
const ModelVariant kNotAModel = {
    .free_ops = &kFreeNowOps,
    .trace_gp_start = rcu::Settings::TraceGpStart::kSrcuRawIrqWork,
};

}  // namespace

const ModelVariant& Model(Variant v) {
  if (IsRealTree(v)) return kNotAModel;
  static std::array<const ModelVariant*, static_cast<size_t>(Variant::kFirstTree)> cache{};
  const size_t i = static_cast<size_t>(v);
  if (cache[i] == nullptr) {
    const char* name = VariantName(v);
    for (const Entry& e : kModels) {
      if (strcmp(e.name, name) == 0) cache[i] = e.model;
    }
    if (cache[i] == nullptr) {
      fprintf(stderr, "reclaimfuzz: model variant %s has no engine/storage/variants/ file\n", name);
      abort();
    }
  }
  return *cache[i];
}

}  // namespace reclaimfuzz::storage

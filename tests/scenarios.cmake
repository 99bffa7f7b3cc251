# SPDX-License-Identifier: MIT
# Storage-model scenario tests (issue 3): hand-built schedules on every
# engine variant, run in every sanitizer build.
rf_test(storage_semantics_test SOURCES storage_semantics_test.cc LIBS rf_storage LABELS unit)
rf_test(scenario_b1_test SOURCES scenario_b1_test.cc LIBS rf_storage LABELS unit)
rf_test(scenario_b2_test SOURCES scenario_b2_test.cc LIBS rf_storage LABELS unit)
rf_test(scenario_b3_test SOURCES scenario_b3_test.cc LIBS rf_storage LABELS unit)
rf_test(scenario_context_test SOURCES scenario_context_test.cc LIBS rf_storage LABELS unit)
rf_test(scenario_map_free_test SOURCES scenario_map_free_test.cc LIBS rf_storage LABELS unit)
rf_test(storage_oracles_test SOURCES storage_oracles_test.cc LIBS rf_storage LABELS unit)
rf_test(storage_random_test SOURCES storage_random_test.cc LIBS rf_storage LABELS unit)

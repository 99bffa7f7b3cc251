# SPDX-License-Identifier: MIT
# Sanitizer and fuzzer build logic. Everything compiled in this project links
# the interface target rf_build_flags, which carries the flags of the chosen
# RF_SANITIZER and RF_FUZZER.
add_library(rf_build_flags INTERFACE)

set(_rf_dir ${CMAKE_CURRENT_LIST_DIR})

# No -Wthread-safety: the engine runs on one OS thread (tasks are fibers,
# kernel locks are the model's own, checked by engine/kernel/lockdep.cc),
# so there are no mutexes for the analysis to check, and no annotations.
target_compile_options(rf_build_flags INTERFACE
  -Wall -Wextra -Wshadow -Wno-unused-parameter -fno-omit-frame-pointer -g)
if(RF_WERROR)
  target_compile_options(rf_build_flags INTERFACE -Werror)
endif()

# Runtime options for tests: the files beside this one, joined with ':'.
function(_rf_read_options file out)
  file(STRINGS ${_rf_dir}/${file} lines REGEX "^[^#].*=")
  list(JOIN lines ":" joined)
  set(${out} "${joined}" PARENT_SCOPE)
endfunction()

set(RF_TEST_ENVIRONMENT "")
if(RF_SANITIZER STREQUAL "address")
  target_compile_options(rf_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-sanitize=vptr)
  target_link_options(rf_build_flags INTERFACE -fsanitize=address,undefined -fno-sanitize=vptr)
  _rf_read_options(asan.options asan_opts)
  _rf_read_options(ubsan.options ubsan_opts)
  set(RF_TEST_ENVIRONMENT "ASAN_OPTIONS=${asan_opts};UBSAN_OPTIONS=${ubsan_opts}")
elseif(RF_SANITIZER STREQUAL "thread")
  # The ignorelist keeps the engine's own bookkeeping (scheduler, RCU
  # tables, allocator registry, oracles) out of TSan: it is touched by
  # whichever fiber runs and is not model memory.
  # The list's hash is on the command line so that editing it rebuilds.
  file(SHA1 ${_rf_dir}/tsan_ignorelist.txt _rf_ignorelist_sha)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_rf_dir}/tsan_ignorelist.txt)
  target_compile_options(rf_build_flags INTERFACE
    -fsanitize=thread -fsanitize-ignorelist=${_rf_dir}/tsan_ignorelist.txt
    -DRF_TSAN_IGNORELIST_SHA=${_rf_ignorelist_sha})
  target_link_options(rf_build_flags INTERFACE -fsanitize=thread)
  _rf_read_options(tsan.options tsan_opts)
  set(RF_TEST_ENVIRONMENT "TSAN_OPTIONS=${tsan_opts}")
elseif(RF_SANITIZER STREQUAL "coverage")
  target_compile_options(rf_build_flags INTERFACE -fprofile-instr-generate -fcoverage-mapping)
  target_link_options(rf_build_flags INTERFACE -fprofile-instr-generate -fcoverage-mapping)
elseif(RF_SANITIZER STREQUAL "external")
  # OSS-Fuzz and ClusterFuzzLite (tools/oss-fuzz/build.sh): the sanitizer
  # and coverage flags come in CMAKE_C_FLAGS/CMAKE_CXX_FLAGS ($CFLAGS,
  # $CXXFLAGS), and the runner sets the runtime options.
elseif(NOT RF_SANITIZER STREQUAL "none")
  message(FATAL_ERROR "RF_SANITIZER must be address, thread, coverage, external or none (got '${RF_SANITIZER}')")
endif()

# rf_bookkeeping_sources(SOURCES...): sources of the engine's own
# bookkeeping (scheduler, trace, choice sources, oracles' registries,
# lockdep and context tables, the machine reset), which never touch model
# memory, are not ASan-instrumented: a preemption point is about 7x dearer
# instrumented (engine/vm/machine_bench), and it runs at every shared access
# of the code under test. UBSan and coverage stay on. What is checked stays
# instrumented: engine/storage, the real trees, the kernel shim's lists,
# locks, RCU, workqueues, irq_work and allocator, and the inline accessors
# the code under test compiles in. Call it from the sources' directory.
function(rf_bookkeeping_sources)
  if(RF_SANITIZER STREQUAL "address")
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-fno-sanitize=address")
  endif()
endfunction()

# The C++ library's and Abseil's templates are left out of the fuzzer's
# coverage (coverage_ignorelist.txt says why). The list's hash is on the
# command line so that editing it rebuilds.
function(_rf_coverage_ignorelist)
  file(SHA1 ${_rf_dir}/coverage_ignorelist.txt sha)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_rf_dir}/coverage_ignorelist.txt)
  target_compile_options(rf_build_flags INTERFACE
    -fsanitize-coverage-ignorelist=${_rf_dir}/coverage_ignorelist.txt
    -DRF_COVERAGE_IGNORELIST_SHA=${sha})
endfunction()

if(RF_FUZZER STREQUAL "libfuzzer" AND NOT RF_SANITIZER STREQUAL "thread")
  # Coverage for libFuzzer everywhere; only fuzz targets link its main.
  target_compile_options(rf_build_flags INTERFACE -fsanitize=fuzzer-no-link)
  target_link_options(rf_build_flags INTERFACE -fsanitize=fuzzer-no-link)
  # No comparison tracing (trace-cmp): the binary form has no magic values
  # for it to solve (every field is taken modulo its range, the custom
  # mutator writes the structure), and its callbacks took a quarter of the
  # storage targets' time (perf, asan build).
  target_compile_options(rf_build_flags INTERFACE -fno-sanitize-coverage=trace-cmp)
  # No indirect-call tracing: libFuzzer's callback for it only feeds the
  # value profile (-use_value_profile), which no target or campaign turns
  # on, so it was pure cost (3% of the samples of a perf profile, asan,
  # fuzzing from the seeds); features and coverage are unchanged.
  target_compile_options(rf_build_flags INTERFACE -fno-sanitize-coverage=indirect-calls)
  # No stack-depth tracking either: libFuzzer turns the lowest stack pointer
  # an input reached, measured from the main thread's stack, into a feature,
  # and the tasks run on fiber stacks mapped elsewhere, so that feature is
  # the distance between two mappings, which ASLR moves: the same corpus
  # showed one feature more in one process of three.
  target_compile_options(rf_build_flags INTERFACE -fno-sanitize-coverage=stack-depth)
  _rf_coverage_ignorelist()
elseif(RF_FUZZER STREQUAL "libfuzzer")
  # TSan: no edge coverage. Inline 8-bit counters are plain racy byte writes
  # that TSan reports between tasks (clang 14 instruments them), and clang
  # 14's libFuzzer no longer takes trace-pc-guard. The TSan targets run on
  # the schedule features (fuzz/features.h) and on corpora grown by the
  # ASan campaigns; their job is finding data races, not new code.
endif()
if(RF_FUZZER STREQUAL "external" AND NOT RF_LIB_FUZZING_ENGINE)
  message(FATAL_ERROR "RF_FUZZER=external needs RF_LIB_FUZZING_ENGINE (OSS-Fuzz's $LIB_FUZZING_ENGINE)")
endif()
if(NOT RF_FUZZER STREQUAL "none")
  # Fuzz builds keep their asserts.
  target_compile_options(rf_build_flags INTERFACE -UNDEBUG -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
endif()

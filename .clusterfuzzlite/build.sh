#!/bin/bash -eu
# ClusterFuzzLite build script: the OSS-Fuzz one, from the checkout the
# Dockerfile copied to $SRC/reclaimfuzz. ClusterFuzzLite runs libFuzzer only;
# FUZZING_ENGINE and SANITIZER come from its build_fuzzers action.
exec bash -eu "$SRC/reclaimfuzz/tools/oss-fuzz/build.sh"

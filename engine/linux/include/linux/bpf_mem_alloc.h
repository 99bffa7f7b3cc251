/* SPDX-License-Identifier: MIT */
/* reclaimfuzz shim: see rf_bpf.h */
#include "rf_bpf.h"

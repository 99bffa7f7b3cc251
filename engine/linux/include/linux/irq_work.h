/* SPDX-License-Identifier: MIT */
/* reclaimfuzz shim: see rf_shim.h */
#include "rf_shim.h"

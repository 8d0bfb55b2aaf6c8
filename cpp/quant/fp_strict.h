// Included first by every reference-quantizer source: forbids fusing a*b+c into one FMA in the
// code that follows, whatever the build flags. ggml's x86-64 reference (ggml-base, built without
// -m flags) never contracts, and a fused multiply-add rounds once instead of twice, which changes
// output bytes (research/llamacpp.md §2.2). The builds also pass -ffp-contract=off; this guards
// builds that forget it (or default to contraction: Apple clang, GCC with -march=...fma).
#pragma once

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#endif

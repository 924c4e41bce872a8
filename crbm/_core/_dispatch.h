/* How crbm's C loops are compiled for the CPU they run on.
 *
 * The loops are plain C written so that the compiler vectorises them: no
 * calls, no branches (with -fno-trapping-math). On x86-64 Linux with GCC
 * each loop marked CRBM_SIMD_CLONES also gets an AVX2 clone and, with GCC
 * 12 or later, an x86-64-v4 (AVX-512) one, picked when the module loads
 * (function multiversioning). A few loops have a separate AVX-512 source,
 * marked CRBM_V4 and picked at run time by crbm_cpu_v4 (see _rows.h). A
 * build for a CPU with AVX-512 (CFLAGS=-march=...) compiles each loop once,
 * for it; elsewhere every loop is compiled once for the build's target.
 *
 * setup.py builds with -ffp-contract=off, so that the clones with FMA round
 * exactly like the others and results do not depend on the CPU.
 */
#ifndef CRBM_DISPATCH_H
#define CRBM_DISPATCH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* MSVC's C compiler spells C99's restrict __restrict. */
#if defined(_MSC_VER)
#define CRBM_RESTRICT __restrict
#else
#define CRBM_RESTRICT restrict
#endif

/* CRBM_V4_SOURCES: 0 no AVX-512 sources; 1 AVX-512 sources beside the
   clones, picked at run time; 2 a build for a CPU with AVX-512, where they
   are the only copy. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)         \
         && defined(__AVX512VL__))
#if __GNUC__ >= 12
/* x86-64-v4 (AVX-512 F/BW/DQ/VL) has native 64-bit lane multiplies, which
   the counter-based uniforms need and AVX2 emulates. */
#define CRBM_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
/* CRBM_V4 adds the features of x86-64-v4 to those the build targets instead
   of naming the architecture: under a -march with features x86-64-v4 lacks
   (AES, SHA, ...), a function for "arch=x86-64-v4" could not inline the
   AVX-512 intrinsics, which carry the build's features ("target specific
   option mismatch"). */
#define CRBM_V4                                                                          \
    __attribute__((target("avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx2,avx,bmi,"   \
                          "bmi2,f16c,fma,lzcnt,movbe,popcnt,sse4.2")))
#define CRBM_BELOW_V4_CLONES __attribute__((target_clones("avx2", "default")))
#define CRBM_V4_SOURCES 1
#include <immintrin.h>
#else
#define CRBM_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#define CRBM_V4_SOURCES 0
#endif
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && __GNUC__ >= 12
/* Built for a CPU with AVX-512 (CFLAGS=-march=native on one, say): each
   loop is compiled once, for it. Clones for "arch=x86-64-v4" would lack
   that CPU's other features, which the inline helpers carry, and GCC would
   not inline those into them, and every helper would become a call. */
#define CRBM_SIMD_CLONES
#define CRBM_V4
#define CRBM_BELOW_V4_CLONES
#define CRBM_V4_SOURCES 2
#include <immintrin.h>
#else
#define CRBM_SIMD_CLONES
#define CRBM_V4_SOURCES 0
#endif

/* How this module's loops were compiled, for crbm.show_config(): the
   copies each CRBM_SIMD_CLONES loop has, chosen when the module loads. */
#if CRBM_V4_SOURCES == 1
#define CRBM_SIMD_BUILD "clones for x86-64-v4 (AVX-512), AVX2 and the baseline"
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && CRBM_V4_SOURCES == 0
#define CRBM_SIMD_BUILD "clones for AVX2 and the baseline"
#elif CRBM_V4_SOURCES == 2
#define CRBM_SIMD_BUILD "one copy, for the build's CPU (AVX-512)"
#else
#define CRBM_SIMD_BUILD "one copy, for the build's target (no multiversioning)"
#endif

#endif /* CRBM_DISPATCH_H */

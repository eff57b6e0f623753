/* nvcuda::wmma for the CPU emulation (include/cuda_emu.h), the 16x16x16
 * shapes with bf16 (or half-width) operands and fp32 accumulators.
 *
 * Every thread's fragment holds the whole tile (num_elements is the tile's
 * size, not a thread's share), and every thread computes mma_sync
 * redundantly, so element access x[i] is only meaningful for operations
 * that treat all elements alike (scaling, filling), as on the GPU, where a
 * thread's share of the tile is unspecified. As on the GPU, load, store
 * and mma are warp-collective: each starts with a barrier of the warp, so
 * a warp's threads all read before any of them writes, and code that calls
 * them from divergent branches hangs here as it would fail there. store
 * writes each element from one thread only (element e from lane e % 32):
 * reading what other lanes stored needs a __syncwarp first, as on the GPU.
 * The GPU's constraints are checked and abort with a message: pointers
 * 256-bit aligned, ldm a multiple of 16 bytes. */
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include "cuda_emu.h"
#include "cuda_bf16.h"

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K> struct emu_shape;
template <int M, int N, int K> struct emu_shape<matrix_a, M, N, K> { enum { rows = M, cols = K }; };
template <int M, int N, int K> struct emu_shape<matrix_b, M, N, K> { enum { rows = K, cols = N }; };
template <int M, int N, int K> struct emu_shape<accumulator, M, N, K> { enum { rows = M, cols = N }; };

/* the tile, row-major: element (r, c) is x[r * cols + c] */
template <typename Use, int M, int N, int K, typename T, typename Layout = void> struct fragment {
    enum { rows = emu_shape<Use, M, N, K>::rows, cols = emu_shape<Use, M, N, K>::cols };
    enum { num_elements = rows * cols };
    T x[num_elements];
};

inline float emu_float(float v) { return v; }
inline float emu_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> inline void emu_check(const T *p, unsigned ldm, const char *what)
{
    if ((uintptr_t)p % 32 || (ldm * sizeof(T)) % 16) {
        fprintf(stderr, "emu: wmma %s: pointer %p or ldm %u breaks the alignment rules\n", what,
                (const void *)p, ldm);
        abort();
    }
}

template <typename T> inline void emu_load(T *x, int rows, int cols, const T *p, unsigned ldm,
                                           bool col)
{
    emu_check(p, ldm, "load_matrix_sync");
    emu_warp_sync();
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            x[r * cols + c] = col ? p[(size_t)c * ldm + r] : p[(size_t)r * ldm + c];
}

template <typename Use, int M, int N, int K, typename T>
inline void load_matrix_sync(fragment<Use, M, N, K, T, row_major> &f, const T *p, unsigned ldm)
{
    emu_load(f.x, f.rows, f.cols, p, ldm, false);
}

template <typename Use, int M, int N, int K, typename T>
inline void load_matrix_sync(fragment<Use, M, N, K, T, col_major> &f, const T *p, unsigned ldm)
{
    emu_load(f.x, f.rows, f.cols, p, ldm, true);
}

template <int M, int N, int K, typename T>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T> &f, const T *p, unsigned ldm,
                             layout_t layout)
{
    emu_load(f.x, f.rows, f.cols, p, ldm, layout == mem_col_major);
}

template <int M, int N, int K, typename T>
inline void store_matrix_sync(T *p, const fragment<accumulator, M, N, K, T> &f, unsigned ldm,
                              layout_t layout)
{
    emu_check(p, ldm, "store_matrix_sync");
    emu_warp_sync();
    for (int e = threadIdx.x & 31; e < f.num_elements; e += 32) {
        int r = e / f.cols, c = e % f.cols;
        p[layout == mem_col_major ? (size_t)c * ldm + r : (size_t)r * ldm + c] = f.x[e];
    }
}

template <typename Use, int M, int N, int K, typename T, typename Layout>
inline void fill_fragment(fragment<Use, M, N, K, T, Layout> &f, T v)
{
    for (int e = 0; e < f.num_elements; e++)
        f.x[e] = v;
}

/* d = a b + c in fp32 (d may be c) */
template <int M, int N, int K, typename T, typename LA, typename LB>
inline void mma_sync(fragment<accumulator, M, N, K, float> &d,
                     const fragment<matrix_a, M, N, K, T, LA> &a,
                     const fragment<matrix_b, M, N, K, T, LB> &b,
                     const fragment<accumulator, M, N, K, float> &c)
{
    emu_warp_sync();
    float out[M * N];
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float s = c.x[m * N + n];
            for (int k = 0; k < K; k++)
                s += emu_float(a.x[m * K + k]) * emu_float(b.x[k * N + n]);
            out[m * N + n] = s;
        }
    for (int e = 0; e < M * N; e++)
        d.x[e] = out[e];
}

}   // namespace wmma
}   // namespace nvcuda

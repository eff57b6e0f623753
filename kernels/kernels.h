/* The compute interface of the trainer: every tensor operation the GPT and
 * its optimizer perform goes through these functions, so the trainer has one
 * code path for every device. Two implementations: kernels/cpu (OpenBLAS
 * sgemm for matrix products, OpenMP for everything else) and kernels/cuda
 * (cuBLAS and hand-written CUDA kernels; built by `make cuda`, or by `make`
 * when nvcc is found). kernels/dispatch.c sends each call to the device
 * kernels_select chose (the CPU until then); each backend's files define
 * the same functions under their own prefix (kernels/knames.h).
 *
 * Conventions (as in llm.c): outputs first, then inputs, then shapes.
 * Tensors are float32, row-major, and live in memory from k_alloc (device
 * memory on a GPU): callers never dereference them outside these functions,
 * except through k_upload/k_download. Token ids (idx, targets) are host
 * arrays; an implementation for a device copies them over itself.
 * Functions named *_backward ACCUMULATE into every gradient output
 * (dinp += ..., never dinp = ...) and leave their inputs, the incoming
 * gradient dout included, unchanged; no gradient output may overlap an
 * input or another output. So a caller zeroes all its gradients with one
 * k_zero and may have several kernels add into one gradient.
 * The compute kernels (all but set-up and memory) allocate nothing: what
 * they need beyond their arguments is a scratch buffer the caller
 * allocated once (k_attention_scratch, k_muon_scratch say how big).
 * Shapes: N rows of C channels; (B,T,...) batches of B sequences of T. */
#ifndef AR_KERNELS_H
#define AR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Set-up */

/* Call first thing in main(), before any other thread exists. Picks the
 * OpenBLAS core type for this CPU (AR_BLAS_CORETYPE overrides; see
 * kernels/cpu/blas.c), which OpenBLAS only reads while it loads: on its
 * first run the process re-executes itself once with OPENBLAS_CORETYPE set
 * (and OMP_WAIT_POLICY=passive, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT
 * is set). Then checks sgemm numerically and falls back to a
 * safer core type when it computes wrongly. Returns 0, or -1 with an error
 * recorded (lib/base/err.h) when no core type computes correctly. */
int kernels_init(char **argv);

/* "OpenBLAS 0.3.21 SkylakeX (auto)": library, version, kernel and how the
 * kernel was chosen, for the card's platform. Valid after kernels_init or
 * any other kernel call. */
const char *kernels_blas_info(void);
const char *kernels_blas_coretype(void);   /* "SkylakeX" */

/* The decision kernels_init makes: the core type to re-execute with, or
 * NULL to stay. want: the chosen core type (NULL: keep OpenBLAS's);
 * loaded: what OpenBLAS runs now; tried: the comma-separated core types
 * already tried by earlier re-executions (NULL on the first run); works:
 * whether the loaded kernel passed kernels_blas_selftest. A broken kernel
 * is replaced by the next safer one not yet tried (SkylakeX, Haswell,
 * Prescott). Exposed for tests. */
const char *kernels_blas_decide(const char *want, const char *loaded, const char *tried,
                                int works);

/* Checks sgemm against a double-precision reference on a few shapes;
 * 1 when it computes correctly. kernels_init runs it. */
int kernels_blas_selftest(void);

/* Threads for every kernel; n <= 0 means all cores. */
void kernels_set_threads(int n);
int kernels_threads(void);

/* ---------------------------------------------------------------------------
 * Device. Choose it before allocating anything: memory from k_alloc
 * belongs to the device that was current when it was allocated. */

enum k_device { K_DEVICE_CPU, K_DEVICE_CUDA };

/* Matrix products on a GPU: bf16 inputs with fp32 accumulation (fp32
 * storage and master weights; train.py's autocast), TF32 tensor cores, or
 * exact fp32 (for tests). The CPU always computes in fp32. */
enum k_precision { K_PREC_BF16, K_PREC_TF32, K_PREC_FP32 };

/* 1 when this binary was built with the CUDA kernels. */
int kernels_cuda_built(void);

/* "auto" (the first CUDA GPU when one is visible and the binary was built
 * with CUDA, else the CPU), "cpu" or "cuda". Returns 0, or -1 with an
 * AR_EINPUT error recorded when "cuda" cannot be had (no GPU, or a build
 * without CUDA) or the name is unknown. */
int kernels_select(const char *device);
enum k_device kernels_device(void);
const char *kernels_device_name(void);     /* "cpu" or "cuda" */

/* The selected GPU's name as its runtime reports it ("NVIDIA H100 80GB
 * HBM3") and its memory in GB; -1 on the CPU. */
int kernels_gpu_info(char *name, size_t n, double *mem_gb);

void kernels_set_precision(enum k_precision p);   /* default K_PREC_BF16 */
enum k_precision kernels_precision(void);

/* High-water mark of device memory held through k_alloc, in bytes (0 on
 * the CPU, where the process's peak RSS says it). */
size_t kernels_peak_bytes(void);

/* Waits until every kernel issued so far has finished (a no-op on the
 * CPU); timing a step needs it on a device that computes asynchronously. */
void kernels_sync(void);

/* ---------------------------------------------------------------------------
 * Memory */
float *k_alloc(size_t n);                 /* n floats, zeroed; NULL on failure */
void k_free(float *p);
void k_zero(float *p, size_t n);
void k_upload(float *dst, const float *host, size_t n);
void k_download(float *host, const float *src, size_t n);
void k_copy(float *dst, const float *src, size_t n);
void k_add(float *y, const float *x, size_t n);   /* y += x */

/* ---------------------------------------------------------------------------
 * Matrix products (BLAS)
 *
 * out (M,N) = inp (M,K) . w (N,K)^T, added to out when accumulate is set. */
void k_matmul_forward(float *out, const float *inp, const float *w, int M, int K, int N,
                      int accumulate);
/* dinp (M,K) += dout (M,N) . w (N,K); dw (N,K) += dout^T . inp. Either
 * output may be NULL to skip it. */
void k_matmul_backward(float *dinp, float *dw, const float *dout, const float *inp,
                       const float *w, int M, int K, int N);
/* General product: C (M,N) = alpha * op(A) . op(B) + beta * C, with
 * op(X) = X^T when trans_x is set; lda, ldb, ldc are row strides. */
void k_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
            int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* ---------------------------------------------------------------------------
 * Elementwise and row operations (OpenMP) */

/* Embedding lookup: out (N,C) = table[idx[n]] (table is (V,C)). Backward:
 * dtable[idx[n]] += dout[n]. */
void k_embedding_forward(float *out, const uint16_t *idx, const float *table, int N, int C);
void k_embedding_backward(float *dtable, const float *dout, const uint16_t *idx, int N, int C,
                          int V);

/* Parameter-free RMSNorm over the last dim: out = inp / rms(inp); rstd (N)
 * keeps 1/rms. out may equal inp. Backward needs out and rstd only:
 * dinp += d(out)/d(inp)^T dout. */
void k_rmsnorm_forward(float *out, float *rstd, const float *inp, int N, int C);
void k_rmsnorm_backward(float *dinp, const float *dout, const float *out, const float *rstd,
                        int N, int C);

/* Rotary embedding, split-halves form, in place on x (B,T,H,D) with tables
 * cos, sin (T, D/2). Backward adds dout (B,T,H,D) rotated the other way
 * (the transpose of the rotation) to dinp; dout is not changed. */
void k_rope_forward(float *x, const float *cos, const float *sin, int B, int T, int H, int D);
void k_rope_backward(float *dinp, const float *dout, const float *cos, const float *sin, int B,
                     int T, int H, int D);

/* Residual mix before block l: out = lambda[l] * x + x0_lambda[l] * x0 (N,C).
 * The lambdas live in device memory. Backward adds dout * lambda[l] to dx,
 * dout * x0_lambda[l] to dx0, sum(dout * x) to dlambda[l] and
 * sum(dout * x0) to dx0_lambda[l]. */
void k_residual_mix_forward(float *out, const float *x, const float *x0, const float *lambda,
                            const float *x0_lambda, int l, int N, int C);
void k_residual_mix_backward(float *dx, float *dx0, float *dlambda, float *dx0_lambda,
                             const float *dout, const float *x, const float *x0,
                             const float *lambda, const float *x0_lambda, int l, int N, int C);

/* Value-embedding gate: v (N, Hk*D) += 2 sigmoid(pre (N,Hk)) * ve (N, Hk*D),
 * pre being the gate's linear output. Backward: dve += dv * gate,
 * dpre += dv . ve * gate'; the gradient of the v that went in is dv
 * itself, which the caller routes on (the kernel writes nothing for it). */
void k_ve_gate_forward(float *v, const float *pre, const float *ve, int N, int Hk, int D);
void k_ve_gate_backward(float *dpre, float *dve, const float *dv, const float *pre,
                        const float *ve, int N, int Hk, int D);

/* MLP activations. relu2: relu(u)^2, gelu: tanh approximation, both out
 * (N,F) from u (N,F). swiglu: u is (N,2F) = [gate | up] per row, out =
 * silu(gate) * up. Backward takes the pre-activation u: du (N,F or 2F)
 * += act'(u) dout. */
enum k_act { K_ACT_RELU2, K_ACT_GELU, K_ACT_SWIGLU };
void k_act_forward(float *out, const float *u, int N, int F, enum k_act kind);
void k_act_backward(float *du, const float *dout, const float *u, int N, int F,
                    enum k_act kind);

/* ---------------------------------------------------------------------------
 * Attention: causal, sliding window (each query sees keys j with
 * i - window < j <= i; window >= T means full causal), softmax scale
 * 1/sqrt(D). q (B,T,H,D); k, v (B,T,Hk,D) with H a multiple of Hk (grouped
 * queries). out (B,T,H,D); lse (B,H,T) keeps each row's log-sum-exp for
 * the backward pass, which recomputes the scores (no T x T storage);
 * backward adds to dq, dk, dv.
 *
 * scratch holds scratch_floats floats; k_attention_scratch(T, window,
 * threads) of them let that many threads work at once. Give at least
 * k_attention_scratch(T, window, 1): with less than kernels_threads() need,
 * fewer threads run (the result does not depend on how many). */
size_t k_attention_scratch(int T, int window, int threads);
void k_attention_forward(float *out, float *lse, const float *q, const float *k, const float *v,
                         float *scratch, size_t scratch_floats, int B, int T, int H, int Hk,
                         int D, int window);
void k_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out,
                          const float *lse, const float *q, const float *k, const float *v,
                          float *scratch, size_t scratch_floats, int B, int T, int H, int Hk,
                          int D, int window);

/* ---------------------------------------------------------------------------
 * Output layer loss. logits (N,V) are raw head outputs; with softcap > 0
 * they are first capped in place to softcap * tanh(logits / softcap).
 * Per-row loss = (1 - ls) * CE + ls * (lse - mean logit) + z * lse^2.
 * losses (N) gets each row's loss; with dscale != 0 the logits are replaced
 * by dloss/dlogits (raw, before the cap) times dscale: this fused kernel
 * writes its gradient (it is no *_backward and does not accumulate). */
void k_crossentropy(float *losses, float *logits, const uint16_t *targets, int N, int V,
                    float softcap, float label_smoothing, float z_loss, float dscale);

/* ---------------------------------------------------------------------------
 * Optimizer pieces */

/* Sum of squares of x (n), accumulated in double. */
double k_sum_squares(const float *x, size_t n);
void k_scale(float *x, float s, size_t n);

/* AdamW on n parameters: m, v moments; step t counts from 1 (bias
 * correction); decoupled weight decay lr * wd * p. */
void k_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
             float beta2, float eps, float wd, long t);

/* How Muon orthogonalises and scales its update. */
struct k_muon_opts {
    int ns_steps;        /* iterations of the orthogonalisation */
    int polar_express;   /* 1: Polar Express coefficients, one quintic per
                          * iteration (autoresearch's train.py); 0: the fixed
                          * quintic (3.4445, -4.7750, 2.0315) */
    int normuon;         /* NorMuon: per-row (rows >= cols) or per-column
                          * second moments rescale the orthogonalised update */
    float beta2;         /* NorMuon's second-moment EMA rate */
};

/* Muon for one (rows, cols) matrix: buf = mu buf + (1 - mu) g; Nesterov
 * u = (1 - mu) g + mu buf; u orthogonalised (k_newton_schulz or
 * k_polar_express); with normuon, u rescaled by k_normuon with the second
 * moments v (k_normuon_size(rows, cols) floats, zero at the start; unused
 * without normuon); p -= lr * (u + wd * p * [u * p >= 0]) (cautious weight
 * decay). scratch holds k_muon_scratch(rows, cols) floats. */
size_t k_muon_scratch(int rows, int cols);
void k_muon(float *p, const float *g, float *buf, float *v, float *scratch, int rows, int cols,
            float lr, float mu, float wd, const struct k_muon_opts *o);
/* The orthogonalisations alone, in place on x (rows, cols); exposed for
 * tests. k_newton_schulz: x / (|x|_F + 1e-7), then steps of the fixed
 * quintic. k_polar_express: x / (1.02 |x|_F + 1e-6), then the Polar Express
 * quintics of Amsel et al. (arXiv 2505.16932; 5 iterations, safety factor
 * 2e-2, cushion 2) as train.py uses them, iteration i with the i-th
 * (a, b, c); beyond 5 the last repeats. Each iteration is
 * x <- a x + (b A + c A^2) x with A = x x^T (x (b A + c A^2) with A = x^T x
 * for a tall x). */
void k_newton_schulz(float *x, float *scratch, int rows, int cols, int steps);
void k_polar_express(float *x, float *scratch, int rows, int cols, int steps);
/* NorMuon's rescaling of an orthogonalised update u (rows, cols), as in
 * train.py: per row when rows >= cols (else per column), q = the mean of
 * u^2 over the row; v <- v + (1 - beta2) (q - v); each row is scaled by
 * 1 / sqrt(max(v, 1e-10)), then all of u by one factor that keeps its
 * Frobenius norm. v and q (scratch) hold k_normuon_size(rows, cols) floats. */
size_t k_normuon_size(int rows, int cols);
void k_normuon(float *u, float *v, float *q, int rows, int cols, float beta2);

#ifdef __cplusplus
}
#endif

#endif

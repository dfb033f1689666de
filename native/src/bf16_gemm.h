/*
 * Mixed-precision sgemm on oneDNN (rrhf --bf16): C = alpha*op(A)@op(B) + beta*C,
 * row-major, the contract of the addon's sgemm, fp32 in and out. A and B are
 * rounded to bfloat16 (round to nearest even) into scratch buffers here; the
 * products are accumulated in fp32 by oneDNN's matmul (on AVX512-BF16 CPUs its
 * vdpbf16ps kernels: about 2x OpenBLAS fp32 on Zen 5, bench/README.md).
 *
 * Compiled only when native/build.cjs finds oneDNN (dnnl.h and -ldnnl), which
 * defines RRHF_HAVE_DNNL; without it the addon has no bf16 functions and the JS
 * side says --bf16 is unavailable.
 *
 * Primitive creation costs 0.2-10 ms, and a training step's shapes change with
 * every batch (M or K is the number of tokens), so the matmul primitives are
 * created with every dimension and stride a runtime value: one primitive per
 * (transA, transB, beta, threads), a handful in all, reused for every shape.
 * alpha is a runtime output scale; beta, which oneDNN 2.x fixes when the
 * primitive is created, is a sum post-op (and no post-op for beta = 0, so C is
 * never read then, as BLAS). With runtime shapes oneDNN picks its JIT bf16 GEMM
 * ("gemm:jit"), measured as fast as the shape-specialised brgemm kernels here.
 *
 * Threads: Debian's oneDNN runs on GNU OpenMP and reads omp_get_max_threads()
 * when it creates and runs a primitive, so the calling thread's OpenMP thread
 * count is set to the backend's (setBf16Threads) before each call: oneDNN's
 * workers then take the cores OpenBLAS's would have, not more.
 */
#ifndef RRHF_BF16_GEMM_H
#define RRHF_BF16_GEMM_H

#include <dnnl.h>
#include <omp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Threads for oneDNN and the conversions (setBf16Threads), apart from
 * OpenBLAS's: a --bf16 backend gives OpenBLAS one thread (only its small
 * products stay there), because OpenBLAS's idle workers spin for ~2^28 cycles
 * after a call and, interleaved with oneDNN's OpenMP workers on the same
 * cores, made both ~10x slower at 2 threads in bench/bf16_matmul.ts.
 */
static int bf16_threads = 1;

/* Conversions below this many values run on one thread: a parallel region costs more than they do. */
#define BF16_CVT_PARALLEL_MIN 65536

/* fp32 -> bf16, round to nearest even; NaN stays a (quiet) NaN instead of rounding into infinity. */
static inline uint16_t bf16_from_f32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void bf16_convert_range(uint16_t* restrict dst, const float* restrict src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = bf16_from_f32(src[i]);
}

static void bf16_convert(uint16_t* dst, const float* src, size_t n) {
  const int nt = n < BF16_CVT_PARALLEL_MIN ? 1 : bf16_threads;
  if (nt <= 1) {
    bf16_convert_range(dst, src, n);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int t = 0; t < nt; t++) {
    const size_t lo = n * (size_t)t / (size_t)nt, hi = n * (size_t)(t + 1) / (size_t)nt;
    bf16_convert_range(dst + lo, src + lo, hi - lo);
  }
}

/* Grow-only scratch for the bf16 copies of A and B (64-byte aligned). */
typedef struct {
  uint16_t* p;
  size_t cap;
} bf16_buf;

static bool bf16_reserve(bf16_buf* b, size_t n) {
  if (n <= b->cap) return true;
  free(b->p);
  const size_t bytes = (n * sizeof(uint16_t) + 63) & ~(size_t)63;
  b->p = (uint16_t*)aligned_alloc(64, bytes);
  b->cap = b->p ? n : 0;
  return b->p != NULL;
}

typedef struct {
  bool ta, tb;
  float beta;
  int threads;
  dnnl_primitive_t prim;
} bf16_entry;

/* (transA, transB, beta, threads) -> primitive; training uses beta 0 and 1, so a few entries. */
#define BF16_CACHE_MAX 32

static struct {
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  bf16_buf a, b;
  bf16_entry entries[BF16_CACHE_MAX];
  int count;
} bf16_state;

#define BF16_TRY(call)                              \
  do {                                              \
    dnnl_status_t bf16_st_ = (call);                \
    if (bf16_st_ != dnnl_success) return bf16_st_; \
  } while (0)

static dnnl_status_t bf16_init(void) {
  if (bf16_state.stream) return dnnl_success;
  BF16_TRY(dnnl_engine_create(&bf16_state.engine, dnnl_cpu, 0));
  return dnnl_stream_create(&bf16_state.stream, bf16_state.engine, dnnl_stream_default_flags);
}

/*
 * Memory descriptors of op(A) (M x K), op(B) (K x N) and C (M x N) as rrhf
 * stores them: row-major ("ab"), a transposed operand stored the other way
 * ("ba"). Format tags rather than strides: with runtime dimensions, oneDNN's
 * JIT GEMM accepts plain tagged layouts but falls back to its reference
 * kernel (thousands of times slower) for runtime strides.
 */
static dnnl_status_t bf16_mds(dnnl_memory_desc_t md[3], bool ta, bool tb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K) {
  dnnl_dims_t a = {M, K}, b = {K, N}, c = {M, N};
  BF16_TRY(dnnl_memory_desc_init_by_tag(&md[0], 2, a, dnnl_bf16, ta ? dnnl_ba : dnnl_ab));
  BF16_TRY(dnnl_memory_desc_init_by_tag(&md[1], 2, b, dnnl_bf16, tb ? dnnl_ba : dnnl_ab));
  return dnnl_memory_desc_init_by_tag(&md[2], 2, c, dnnl_f32, dnnl_ab);
}

static dnnl_status_t bf16_create(bool ta, bool tb, float beta, dnnl_primitive_t* out) {
  const dnnl_dim_t R = DNNL_RUNTIME_DIM_VAL;
  dnnl_memory_desc_t md[3];
  BF16_TRY(bf16_mds(md, ta, tb, R, R, R));
  dnnl_matmul_desc_t desc;
  BF16_TRY(dnnl_matmul_desc_init(&desc, &md[0], &md[1], NULL, &md[2]));
  dnnl_primitive_attr_t attr;
  BF16_TRY(dnnl_primitive_attr_create(&attr));
  const float runtime_alpha = DNNL_RUNTIME_F32_VAL;
  dnnl_post_ops_t po = NULL;
  dnnl_status_t st = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &runtime_alpha);
  if (st == dnnl_success && beta != 0.0f) {
    st = dnnl_post_ops_create(&po);
    if (st == dnnl_success) st = dnnl_post_ops_append_sum(po, beta);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, po);
  }
  dnnl_primitive_desc_t pd = NULL;
  if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &desc, attr, bf16_state.engine, NULL);
  if (st == dnnl_success) st = dnnl_primitive_create(out, pd);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (po) dnnl_post_ops_destroy(po);
  dnnl_primitive_attr_destroy(attr);
  return st;
}

static dnnl_status_t bf16_primitive(bool ta, bool tb, float beta, dnnl_primitive_t* out) {
  for (int i = 0; i < bf16_state.count; i++) {
    const bf16_entry* e = &bf16_state.entries[i];
    if (e->ta == ta && e->tb == tb && e->beta == beta && e->threads == bf16_threads) {
      *out = e->prim;
      return dnnl_success;
    }
  }
  dnnl_primitive_t prim;
  BF16_TRY(bf16_create(ta, tb, beta, &prim));
  if (bf16_state.count == BF16_CACHE_MAX) {
    /* Unusual betas (never in training): drop the oldest entry. */
    dnnl_primitive_destroy(bf16_state.entries[0].prim);
    memmove(&bf16_state.entries[0], &bf16_state.entries[1], sizeof(bf16_entry) * (BF16_CACHE_MAX - 1));
    bf16_state.count--;
  }
  bf16_state.entries[bf16_state.count++] = (bf16_entry){ta, tb, beta, bf16_threads, prim};
  *out = prim;
  return dnnl_success;
}

static dnnl_status_t bf16_execute(dnnl_primitive_t prim, const dnnl_memory_desc_t md[3], void* a, void* b, float* c,
                                  float* alpha) {
  dnnl_dims_t sd = {1};
  dnnl_memory_desc_t smd;
  BF16_TRY(dnnl_memory_desc_init_by_tag(&smd, 1, sd, dnnl_f32, dnnl_a));
  dnnl_memory_t mem[4] = {NULL, NULL, NULL, NULL};
  void* data[4] = {a, b, c, alpha};
  const dnnl_memory_desc_t* mds[4] = {&md[0], &md[1], &md[2], &smd};
  dnnl_status_t st = dnnl_success;
  for (int i = 0; i < 4 && st == dnnl_success; i++) st = dnnl_memory_create(&mem[i], mds[i], bf16_state.engine, data[i]);
  if (st == dnnl_success) {
    const dnnl_exec_arg_t args[4] = {
        {DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]}, {DNNL_ARG_DST, mem[2]}, {DNNL_ARG_ATTR_OUTPUT_SCALES, mem[3]}};
    st = dnnl_primitive_execute(prim, bf16_state.stream, 4, args);
    if (st == dnnl_success) st = dnnl_stream_wait(bf16_state.stream);
  }
  for (int i = 0; i < 4; i++)
    if (mem[i]) dnnl_memory_destroy(mem[i]);
  return st;
}

/* C = alpha*op(A)@op(B) + beta*C with bf16-rounded A and B, fp32 accumulation; M, N, K >= 1. */
static dnnl_status_t bf16_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B,
                               float beta, float* C) {
  BF16_TRY(bf16_init());
  const size_t na = (size_t)M * K, nb = (size_t)K * N;
  if (!bf16_reserve(&bf16_state.a, na) || !bf16_reserve(&bf16_state.b, nb)) return dnnl_out_of_memory;
  omp_set_num_threads(bf16_threads);
  dnnl_primitive_t prim;
  BF16_TRY(bf16_primitive(ta, tb, beta, &prim));
  bf16_convert(bf16_state.a.p, A, na);
  bf16_convert(bf16_state.b.p, B, nb);
  dnnl_memory_desc_t md[3];
  BF16_TRY(bf16_mds(md, ta, tb, M, N, K));
  return bf16_execute(prim, md, bf16_state.a.p, bf16_state.b.p, C, &alpha);
}

/* sgemmBf16(transA, transB, M, N, K, alpha, A, B, beta, C): the arguments and checks of sgemm. */
static napi_value SgemmBf16(napi_env env, napi_callback_info info) {
  gemm_args g;
  if (!get_gemm_args(env, info, "sgemmBf16", &g)) return NULL;
  if (g.M == 0 || g.N == 0) return NULL;
  const dnnl_status_t st = bf16_gemm(g.ta, g.tb, g.M, g.N, g.K, (float)g.alpha, g.A, g.B, (float)g.beta, g.C);
  if (st != dnnl_success) {
    char msg[96];
    snprintf(msg, sizeof msg, "rrhf-native: oneDNN bf16 matmul failed (dnnl_status_t %d)", (int)st);
    napi_throw_error(env, NULL, msg);
  }
  return NULL;
}

static const char* bf16_isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    default: return "older";
  }
}

/*
 * bf16Config() -> { hardware, detail }: whether this CPU has bf16 dot products
 * (AVX512-BF16 or AMX, as oneDNN detects it; elsewhere oneDNN would emulate
 * bf16, slower than fp32, so rrhf refuses --bf16) and oneDNN's version and ISA.
 */
static napi_value Bf16Config(napi_env env, napi_callback_info info) {
  (void)info;
  const dnnl_version_t* v = dnnl_version();
  const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  const bool hw = (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  char buf[128];
  snprintf(buf, sizeof buf, "oneDNN %d.%d.%d, ISA %s", v->major, v->minor, v->patch, bf16_isa_name(isa));
  napi_value out, hardware, detail;
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_get_boolean(env, hw, &hardware));
  CHECK(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &detail));
  CHECK(env, napi_set_named_property(env, out, "hardware", hardware));
  CHECK(env, napi_set_named_property(env, out, "detail", detail));
  return out;
}

static napi_value SetBf16Threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(env, napi_get_value_int32(env, argv[0], &n));
  bf16_threads = n < 1 ? 1 : n;
  return NULL;
}

#define BF16_PROPS                                                          \
  {"sgemmBf16", NULL, SgemmBf16, NULL, NULL, NULL, napi_enumerable, NULL},  \
  {"bf16Config", NULL, Bf16Config, NULL, NULL, NULL, napi_enumerable, NULL},        \
  {"setBf16Threads", NULL, SetBf16Threads, NULL, NULL, NULL, napi_enumerable, NULL},

#endif

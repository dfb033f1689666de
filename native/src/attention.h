/*
 * Causal attention through sgemm, the loops of kernels/gemm-attention.ts
 * (its TypeScript twin and the specification here; both are tested against
 * the fused reference kernels) moved into the addon so that the work of
 * different (batch row, KV head) pairs runs on the backend's threads at once:
 * each pair writes only its own rows of out/lse/dq and its own dk/dv, so the
 * pairs need no locks and every value is the same for any thread count. In
 * TypeScript the per-head products ran one after another on one thread
 * (products too small to split), between JavaScript mask and softmax loops.
 *
 * The caller (gemm-attention.ts) plans the tiles and each row's visible key
 * spans; calls with a key mask stay in TypeScript. Products are single-threaded
 * OpenBLAS calls inside the threads (split_gemm.h sets OpenBLAS to 1 thread);
 * with RRHF_SGEMM_THREADS=openblas the pairs run one after another.
 * Included once by rrhf_native.c (after pointwise.h and split_gemm.h).
 */
#ifndef RRHF_ATTENTION_H
#define RRHF_ATTENTION_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ATT_TILE_ROWS 128
/* One tile in the int32 tile table: b, t0, t1, c0, c1, o0, o1 (see planTiles in gemm-attention.ts). */
#define ATT_TILE_INTS 7

typedef struct {
  int B, Hq, Hkv, T, S, D, nt;
  float scale;
  const int32_t* tiles;
  /* [B*T, 4]: row (b, t)'s visible columns of its tile's key block, [a0, a1) and [b0, b1). */
  const int32_t* spans;
} att_dims;

/* Per-thread work space. */
typedef struct {
  float *scores, *grad, *kb, *vb, *dkb, *dvb, *lse, *ones;
} att_ws;

static bool att_ws_alloc(att_ws* w, size_t L, size_t D) {
  const size_t sizes[8] = {ATT_TILE_ROWS * L, ATT_TILE_ROWS * L, L * D, L * D, L * D, L * D, ATT_TILE_ROWS, ATT_TILE_ROWS};
  float** bufs[8] = {&w->scores, &w->grad, &w->kb, &w->vb, &w->dkb, &w->dvb, &w->lse, &w->ones};
  bool ok = true;
  for (int i = 0; i < 8; i++) ok = (*bufs[i] = malloc((sizes[i] > 0 ? sizes[i] : 1) * sizeof(float))) != NULL && ok;
  if (ok)
    for (int i = 0; i < ATT_TILE_ROWS; i++) w->ones[i] = 1.0f;
  return ok;
}

static void att_ws_free(att_ws* w) {
  float* bufs[8] = {w->scores, w->grad, w->kb, w->vb, w->dkb, w->dvb, w->lse, w->ones};
  for (int i = 0; i < 8; i++) free(bufs[i]);
}

/* The key (or value) block of a tile for one KV head: in place when contiguous, else gathered into `into`. */
static const float* att_key_block(const float* src, size_t base, const int32_t* tl, int D, float* into) {
  const int c0 = tl[3], c1 = tl[4], o0 = tl[5], o1 = tl[6];
  const size_t nc = (size_t)(c1 - c0), no = (size_t)(o1 - o0);
  if (nc == 0) return src + base + (size_t)o0 * D;
  if (no == 0 || c1 == o0) return src + base + (size_t)c0 * D;
  memcpy(into, src + base + (size_t)c0 * D, nc * D * sizeof(float));
  memcpy(into + nc * D, src + base + (size_t)o0 * D, no * D * sizeof(float));
  return into;
}

static bool att_contiguous(const int32_t* tl) { return tl[4] == tl[3] || tl[6] == tl[5] || tl[4] == tl[5]; }

static void att_fill(float* p, int from, int to, float value) {
  for (int j = from; j < to; j++) p[j] = value;
}

/* Sets every score a row cannot see to `value` (the complement of its two spans), as fillMasked. */
static void att_fill_masked(float* scores, const int32_t* spans, int rows, int L, float value) {
  for (int i = 0; i < rows; i++) {
    float* o = scores + (size_t)i * L;
    const int a0 = spans[4 * i], a1 = spans[4 * i + 1], b0 = spans[4 * i + 2], b1 = spans[4 * i + 3];
    const int until = b1 > b0 ? b0 : L;
    if (a1 > a0) {
      att_fill(o, 0, a0, value);
      att_fill(o, a1, until > a1 ? until : a1, value);
    } else {
      att_fill(o, 0, until, value);
    }
    if (b1 > b0) att_fill(o, b1, L, value);
  }
}

/* P = softmax of the masked scores [rows, L] in place, as softmaxTile; lse_in given (backward) or computed into w->lse. */
static void att_softmax(att_ws* w, const int32_t* spans, int rows, int L, const float* lse_in, bool simd) {
  att_fill_masked(w->scores, spans, rows, L, -INFINITY);
  for (int i = 0; i < rows; i++) {
    const bool any = spans[4 * i + 1] > spans[4 * i] || spans[4 * i + 3] > spans[4 * i + 2];
    if (lse_in) w->lse[i] = lse_in[i];
    else if (!any) w->scores[(size_t)i * L] = 0; /* keeps the row's max finite */
  }
  if (!lse_in) pw_rows(w->lse, w->scores, NULL, NULL, 0, (size_t)rows, (size_t)L, simd);
  for (int i = 0; i < rows; i++)
    if (!(spans[4 * i + 1] > spans[4 * i] || spans[4 * i + 3] > spans[4 * i + 2])) w->lse[i] = 0;
  pw_rows(NULL, w->scores, w->lse, w->ones, 0, (size_t)rows, (size_t)L, simd);
  att_fill_masked(w->scores, spans, rows, L, 0);
  for (int i = 0; i < rows; i++) {
    if (!(spans[4 * i + 1] > spans[4 * i] || spans[4 * i + 3] > spans[4 * i + 2])) {
      att_fill(w->scores + (size_t)i * L, 0, L, 0);
      w->lse[i] = -INFINITY;
    }
  }
}

/* Forward of one (batch row b, KV head kh): every tile of b, every query head of kh's group. */
static void att_forward_pair(const att_dims* d, int b, int kh, float* out, float* lse, const float* q, const float* k,
                             const float* v, att_ws* w, bool simd) {
  const int D = d->D, group = d->Hq / d->Hkv;
  const size_t kvBase = ((size_t)b * d->Hkv + kh) * d->S * D;
  for (int ti = 0; ti < d->nt; ti++) {
    const int32_t* tl = d->tiles + (size_t)ti * ATT_TILE_INTS;
    if (tl[0] != b) continue;
    const int rows = tl[2] - tl[1], nk = tl[4] - tl[3] + tl[6] - tl[5];
    const int32_t* spans = d->spans + ((size_t)b * d->T + tl[1]) * 4;
    const float* kb = nk > 0 ? att_key_block(k, kvBase, tl, D, w->kb) : w->kb;
    const float* vb = nk > 0 ? att_key_block(v, kvBase, tl, D, w->vb) : w->vb;
    for (int h = kh * group; h < (kh + 1) * group; h++) {
      const size_t row0 = ((size_t)b * d->Hq + h) * d->T + tl[1];
      if (nk == 0) {
        memset(out + row0 * D, 0, (size_t)rows * D * sizeof(float));
        for (int i = 0; i < rows; i++) lse[row0 + i] = -INFINITY;
        continue;
      }
      gemm_block(false, true, rows, nk, D, d->scale, q + row0 * D, D, kb, D, 0, w->scores, nk);
      att_softmax(w, spans, rows, nk, NULL, simd);
      memcpy(lse + row0, w->lse, (size_t)rows * sizeof(float));
      gemm_block(false, false, rows, D, nk, 1, w->scores, nk, vb, D, 0, out + row0 * D, D);
    }
  }
}

/* dS = P * (dP - rowsum(dO * O)) * scale in place over dP, in double as scoreGradient. */
static void att_score_gradient(const float* P, float* dP, const float* dO, const float* O, int rows, int L, int D, double scale) {
  for (int i = 0; i < rows; i++) {
    double dot = 0;
    for (int c = 0; c < D; c++) dot += (double)dO[(size_t)i * D + c] * O[(size_t)i * D + c];
    const float* p = P + (size_t)i * L;
    float* g = dP + (size_t)i * L;
    for (int j = 0; j < L; j++) g[j] = (float)((double)p[j] * ((double)g[j] - dot) * scale);
  }
}

static void att_add(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

typedef struct {
  float *dq, *dk, *dv;
  const float *dout, *q, *k, *v, *out, *lse;
} att_grads;

/* Backward of one (batch row b, KV head kh), ACCUMULATING into dq, dk, dv (any may be NULL). */
static void att_backward_pair(const att_dims* d, int b, int kh, const att_grads* a, att_ws* w, bool simd) {
  const int D = d->D, group = d->Hq / d->Hkv;
  const size_t kvBase = ((size_t)b * d->Hkv + kh) * d->S * D;
  for (int ti = 0; ti < d->nt; ti++) {
    const int32_t* tl = d->tiles + (size_t)ti * ATT_TILE_INTS;
    const int rows = tl[2] - tl[1], nk = tl[4] - tl[3] + tl[6] - tl[5];
    if (tl[0] != b || nk == 0) continue;
    const int32_t* spans = d->spans + ((size_t)b * d->T + tl[1]) * 4;
    const bool inPlace = att_contiguous(tl);
    const size_t first = (size_t)(tl[4] > tl[3] ? tl[3] : tl[5]);
    const float* kb = att_key_block(a->k, kvBase, tl, D, w->kb);
    const float* vb = att_key_block(a->v, kvBase, tl, D, w->vb);
    float* dkb = a->dk && inPlace ? a->dk + kvBase + first * D : w->dkb;
    float* dvb = a->dv && inPlace ? a->dv + kvBase + first * D : w->dvb;
    for (int h = kh * group; h < (kh + 1) * group; h++) {
      const size_t row0 = ((size_t)b * d->Hq + h) * d->T + tl[1];
      const float* qb = a->q + row0 * D;
      const float* dob = a->dout + row0 * D;
      gemm_block(false, true, rows, nk, D, d->scale, qb, D, kb, D, 0, w->scores, nk);
      att_softmax(w, spans, rows, nk, a->lse + row0, simd);
      gemm_block(false, true, rows, nk, D, 1, dob, D, vb, D, 0, w->grad, nk);
      att_score_gradient(w->scores, w->grad, dob, a->out + row0 * D, rows, nk, D, d->scale);
      if (a->dq) gemm_block(false, false, rows, D, nk, 1, w->grad, nk, kb, D, 1, a->dq + row0 * D, D);
      const float acc = inPlace || h > kh * group ? 1 : 0;
      if (a->dk) gemm_block(true, false, nk, D, rows, 1, w->grad, nk, qb, D, acc, dkb, D);
      if (a->dv) gemm_block(true, false, nk, D, rows, 1, w->scores, nk, dob, D, acc, dvb, D);
    }
    if (!inPlace) {
      const size_t nc = (size_t)(tl[4] - tl[3]) * D, no = (size_t)(tl[6] - tl[5]) * D;
      if (a->dk) att_add(a->dk + kvBase + (size_t)tl[3] * D, w->dkb, nc), att_add(a->dk + kvBase + (size_t)tl[5] * D, w->dkb + nc, no);
      if (a->dv) att_add(a->dv + kvBase + (size_t)tl[3] * D, w->dvb, nc), att_add(a->dv + kvBase + (size_t)tl[5] * D, w->dvb + nc, no);
    }
  }
}

/* Widest key block of any tile. */
static int att_max_keys(const att_dims* d) {
  int m = 1;
  for (int ti = 0; ti < d->nt; ti++) {
    const int32_t* tl = d->tiles + (size_t)ti * ATT_TILE_INTS;
    const int nk = tl[4] - tl[3] + tl[6] - tl[5];
    if (nk > m) m = nk;
  }
  return m;
}

/* Runs forward (g == NULL) or backward over every (b, kh) pair; false when work space could not be allocated. */
static bool att_run(const att_dims* d, float* out, float* lse, const float* q, const float* k, const float* v, const att_grads* g) {
  const bool simd = pw_use_simd();
  if (split_gemm_mode < 0) split_gemm_mode = split_gemm_read_mode();
  const int pairs = d->B * d->Hkv;
  const double work = 4.0 * d->B * d->Hq * d->T * (double)att_max_keys(d) * d->D;
  const int t = split_gemm_mode == 1 ? small_gemm_threads : 1;
  const int parts = t < 2 || pairs < 2 || work < 2 * SPLIT_MIN_WORK ? 1 : (pairs < t ? pairs : t);
  const size_t L = (size_t)att_max_keys(d);
  int ok = 1;
#pragma omp parallel num_threads(parts) if (parts > 1)
  {
    att_ws w;
    const bool mine = att_ws_alloc(&w, L, (size_t)d->D);
    if (!mine) {
#pragma omp atomic write
      ok = 0;
    }
#pragma omp for schedule(dynamic, 1)
    for (int p = 0; p < pairs; p++) {
      if (!mine) continue;
      if (g) att_backward_pair(d, p / d->Hkv, p % d->Hkv, g, &w, simd);
      else att_forward_pair(d, p / d->Hkv, p % d->Hkv, out, lse, q, k, v, &w, simd);
    }
    att_ws_free(&w);
  }
  return ok != 0;
}

static bool get_i32(napi_env env, napi_value v, const int32_t** data, size_t* len, const char* name) {
  bool is_ta = false;
  napi_typedarray_type type;
  void* ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_int32_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "rrhf-native: %s must be an Int32Array", name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  static const int32_t empty[1] = {0};
  *data = ptr != NULL ? (const int32_t*)ptr : empty;
  return true;
}

/* True when every tile and every row span stays inside the buffers the dims describe. */
static bool att_plan_ok(const att_dims* d, size_t spans_len) {
  if (spans_len < (size_t)d->B * d->T * 4) return false;
  for (int ti = 0; ti < d->nt; ti++) {
    const int32_t* tl = d->tiles + (size_t)ti * ATT_TILE_INTS;
    const int b = tl[0], t0 = tl[1], t1 = tl[2], c0 = tl[3], c1 = tl[4], o0 = tl[5], o1 = tl[6];
    if (b < 0 || b >= d->B || t0 < 0 || t1 <= t0 || t1 > d->T || t1 - t0 > ATT_TILE_ROWS) return false;
    if (c0 < 0 || c1 < c0 || c1 > d->S || o0 < 0 || o1 < o0 || o1 > d->S) return false;
    const int L = c1 - c0 + o1 - o0;
    for (int t = t0; t < t1; t++) {
      const int32_t* s = d->spans + ((size_t)b * d->T + t) * 4;
      if (s[0] < 0 || s[1] < s[0] || s[1] > L || s[2] < 0 || s[3] < s[2] || s[3] > L) return false;
    }
  }
  return true;
}

/* Reads tiles, spans and B, Hq, Hkv, T, S, D, scale from argv[0..8]; checks them and the buffer lengths. */
static bool att_get_dims(napi_env env, napi_value* argv, att_dims* d, size_t* nq, size_t* nkv, size_t* nrow) {
  size_t lt, ls, v[6];
  if (!get_i32(env, argv[0], &d->tiles, &lt, "tiles") || !get_i32(env, argv[1], &d->spans, &ls, "spans")) return false;
  for (int i = 0; i < 6; i++)
    if (!get_count(env, argv[2 + i], &v[i])) return false;
  double scale;
  if (napi_get_value_double(env, argv[8], &scale) != napi_ok) {
    napi_throw_type_error(env, NULL, "rrhf-native: attention scale must be a number");
    return false;
  }
  /* Products in double: huge dims must not wrap around into small buffer sizes. */
  const double big = (double)(1ull << 40);
  if (v[1] == 0 || v[2] == 0 || v[1] % v[2] != 0 || v[5] == 0 || lt % ATT_TILE_INTS != 0 ||
      (double)v[0] * v[1] * v[3] * v[5] > big || (double)v[0] * v[2] * v[4] * v[5] > big || lt / ATT_TILE_INTS > (size_t)INT32_MAX) {
    napi_throw_range_error(env, NULL, "rrhf-native: attention dims are not valid");
    return false;
  }
  *d = (att_dims){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)(lt / ATT_TILE_INTS), (float)scale, d->tiles, d->spans};
  if (!att_plan_ok(d, ls)) {
    napi_throw_range_error(env, NULL, "rrhf-native: attention tiles or spans fall outside the dims");
    return false;
  }
  *nq = v[0] * v[1] * v[3] * v[5];
  *nkv = v[0] * v[2] * v[4] * v[5];
  *nrow = v[0] * v[1] * v[3];
  return true;
}

/* attentionTilesForward(out, lse, q, k, v, tiles, spans, B, Hq, Hkv, T, S, D, scale) */
static napi_value AttentionTilesForward(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  att_dims d;
  size_t nq, nkv, nrow;
  if (argc != 14 || !att_get_dims(env, argv + 5, &d, &nq, &nkv, &nrow)) return NULL;
  float* b[5];
  const size_t need[5] = {nq, nrow, nq, nkv, nkv};
  const bool nullable[5] = {false, false, false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, 5, "attentionTilesForward")) return NULL;
  if (!att_run(&d, b[0], b[1], b[2], b[3], b[4], NULL)) napi_throw_error(env, NULL, "rrhf-native: out of memory in attention");
  return NULL;
}

/* attentionTilesBackward(dq|null, dk|null, dv|null, dout, q, k, v, out, lse, tiles, spans, B, Hq, Hkv, T, S, D, scale) */
static napi_value AttentionTilesBackward(napi_env env, napi_callback_info info) {
  size_t argc = 18;
  napi_value argv[18];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  att_dims d;
  size_t nq, nkv, nrow;
  if (argc != 18 || !att_get_dims(env, argv + 9, &d, &nq, &nkv, &nrow)) return NULL;
  float* b[9];
  const size_t need[9] = {nq, nkv, nkv, nq, nq, nkv, nkv, nq, nrow};
  const bool nullable[9] = {true, true, true, false, false, false, false, false, false};
  if (!get_buffers(env, argv, b, need, nullable, 9, "attentionTilesBackward")) return NULL;
  const att_grads g = {b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]};
  if (!g.dq && !g.dk && !g.dv) return NULL;
  if (!att_run(&d, NULL, NULL, NULL, NULL, NULL, &g)) napi_throw_error(env, NULL, "rrhf-native: out of memory in attention");
  return NULL;
}

#endif

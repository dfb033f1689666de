/*
 * The elementwise product of two same-shape tensors and its backward (the
 * SwiGLU gate times up projection of the Llama family), threaded over
 * OpenMP. The backward adds dout * b into da in double and rounds once, as
 * kernels/ref/broadcast.ts's JavaScript does, so both match it bit for bit;
 * the split over threads is by element, which changes no value.
 *
 * Included once by rrhf_native.c (after napi_args.h and its thread helpers).
 */
#ifndef RRHF_PRODUCT_H
#define RRHF_PRODUCT_H

#define PRODUCT_MIN_PER_THREAD 32768

MULTIVERSION
static void product_range(float* restrict out, const float* restrict a, const float* restrict b, size_t i0, size_t i1) {
  for (size_t i = i0; i < i1; i++) out[i] = a[i] * b[i];
}

/* acc[i] = f32(acc[i] + dout[i] * x[i]), the sum in double. acc may be the other call's acc (x * x): no restrict on it. */
MULTIVERSION
static void product_grad_range(float* acc, const float* restrict dout, const float* restrict x, size_t i0, size_t i1) {
  for (size_t i = i0; i < i1; i++) acc[i] = (float)((double)acc[i] + (double)dout[i] * (double)x[i]);
}

static void product_forward(float* out, const float* a, const float* b, size_t n) {
  const int parts = thread_parts(n, PRODUCT_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int p = 0; p < parts; p++) product_range(out, a, b, part_start(0, n, p, parts), part_start(0, n, p + 1, parts));
}

/* da += dout * b, then db += dout * a (the reference's order per element when da and db are one buffer). */
static void product_backward(float* da, float* db, const float* dout, const float* a, const float* b, size_t n) {
  const int parts = thread_parts(n, PRODUCT_MIN_PER_THREAD);
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int p = 0; p < parts; p++) {
    const size_t i0 = part_start(0, n, p, parts), i1 = part_start(0, n, p + 1, parts);
    if (da) product_grad_range(da, dout, b, i0, i1);
    if (db) product_grad_range(db, dout, a, i0, i1);
  }
}

/* productForward(out, a, b, n) */
static napi_value ProductForward(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t n;
  if (argc != 4 || !get_count(env, argv[3], &n)) return NULL;
  float* buf[3];
  const size_t need[3] = {n, n, n};
  const bool nullable[3] = {false, false, false};
  if (!get_buffers(env, argv, buf, need, nullable, 3, "productForward")) return NULL;
  product_forward(buf[0], buf[1], buf[2], n);
  return NULL;
}

/* productBackward(da | null, db | null, dout, a, b, n) */
static napi_value ProductBackward(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t n;
  if (argc != 6 || !get_count(env, argv[5], &n)) return NULL;
  float* buf[5];
  const size_t need[5] = {n, n, n, n, n};
  const bool nullable[5] = {true, true, false, false, false};
  if (!get_buffers(env, argv, buf, need, nullable, 5, "productBackward")) return NULL;
  product_backward(buf[0], buf[1], buf[2], buf[3], buf[4], n);
  return NULL;
}

#endif

/*
 * Page advice for the backend's large buffers (Linux). A training step's
 * activations and its parameter gradients are never needed at the same time
 * in full: the gradients fill while the backward pass frees the activations.
 * Handing a freed buffer's pages back (MADV_DONTNEED) lets the kernel recycle
 * them for the gradients, and the gradient arena's pages back after the update
 * for the next forward pass, so peak memory holds one of the two, not both.
 * A page given back costs a fault when next written; on transparent huge pages
 * (MADV_HUGEPAGE) that fault maps 2 MiB at once, about as fast as zeroing it.
 * Included once by rrhf_native.c (after napi_args.h).
 */
#ifndef RRHF_PAGES_H
#define RRHF_PAGES_H

#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

/* The whole pages of `page` bytes inside [p, p + bytes): [*lo, *hi), possibly empty (lo == hi). */
static void inner_pages(char* p, size_t bytes, size_t page, char** lo, char** hi) {
  const uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
  const uintptr_t b = ((uintptr_t)p + bytes) & ~(uintptr_t)(page - 1);
  *lo = (char*)a;
  *hi = (char*)(b > a ? b : a);
}

static napi_value page_result(napi_env env, bool ok) {
  napi_value out;
  CHECK(env, napi_get_boolean(env, ok, &out));
  return out;
}

/*
 * discardPages(buf): buf reads as zeros afterwards. Its whole pages go back to the kernel (true), which maps fresh
 * zero pages when they are next touched; the partial pages at its ends are zeroed in place. Elsewhere (false) the
 * whole buffer is zeroed in place.
 */
static napi_value DiscardPages(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  float* data;
  size_t len;
  if (!get_args(env, info, argv, 1, "discardPages") || !get_f32(env, argv[0], &data, &len, "buffer")) return NULL;
  char* p = (char*)data;
  const size_t bytes = len * sizeof(float);
#if defined(__linux__) && defined(MADV_DONTNEED)
  char *lo, *hi;
  inner_pages(p, bytes, (size_t)sysconf(_SC_PAGESIZE), &lo, &hi);
  /* MADV_DONTNEED on private anonymous memory (ArrayBuffers are) guarantees zero pages on the next touch. */
  if (hi > lo && madvise(lo, (size_t)(hi - lo), MADV_DONTNEED) == 0) {
    memset(p, 0, (size_t)(lo - p));
    memset(hi, 0, (size_t)(p + bytes - hi));
    return page_result(env, true);
  }
#endif
  memset(p, 0, bytes);
  return page_result(env, false);
}

#define HUGE_PAGE_BYTES ((size_t)2 << 20)

#ifdef __linux__
static void unmap_pages(napi_env env, void* data, void* hint) {
  const size_t bytes = (size_t)(uintptr_t)hint;
  munmap(data, bytes);
  int64_t left;
  napi_adjust_external_memory(env, -(int64_t)bytes, &left);
}
#endif

/*
 * allocHugePages(n): an ArrayBuffer of n floats, zero, starting on a 2 MiB boundary and advised onto transparent huge
 * pages, so every whole 2 MiB of it faults in as one huge page (an unaligned buffer loses the huge pages its ends
 * cut through). Unmapped when collected; V8 is told its size. null where that is not possible (not Linux, mmap or
 * an external ArrayBuffer refused): the caller allocates as usual.
 */
static napi_value AllocHugePages(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t n;
  if (!get_args(env, info, argv, 1, "allocHugePages") || !get_count(env, argv[0], &n)) return NULL;
  napi_value out;
  CHECK(env, napi_get_null(env, &out));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (n == 0 || n > SIZE_MAX / 8) return out;
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t bytes = (n * sizeof(float) + page - 1) / page * page;
  /* Map one huge page more, then unmap the unaligned head and the rest of the tail. */
  char* raw = mmap(NULL, bytes + HUGE_PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return out;
  char* p = (char*)(((uintptr_t)raw + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
  if (p > raw) munmap(raw, (size_t)(p - raw));
  const size_t tail = (size_t)(raw + bytes + HUGE_PAGE_BYTES - (p + bytes));
  if (tail > 0) munmap(p + bytes, tail);
  madvise(p, bytes, MADV_HUGEPAGE);
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, n * sizeof(float), unmap_pages, (void*)(uintptr_t)bytes, &ab) != napi_ok) {
    munmap(p, bytes);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return out;
  }
  int64_t total;
  napi_adjust_external_memory(env, (int64_t)bytes, &total);
  return ab;
#else
  return out;
#endif
}

#define PAGES_PROPS                                                                    \
  {"allocHugePages", NULL, AllocHugePages, NULL, NULL, NULL, napi_enumerable, NULL},   \
  {"discardPages", NULL, DiscardPages, NULL, NULL, NULL, napi_enumerable, NULL},

#endif

// bf16_gemm.cpp: is a bf16 GEMM at least 1.5x the fp32 rate on this CPU?
// (issue 11, item 3: "Explore reduced precision, measured before adopted").
//
// A standalone measurement tool: not built by npm, not a dependency of rrhf.
//
// Build (Debian 12: apt-get install -y libdnnl-dev libopenblas-dev, g++ 12):
//   g++ -O2 -fopenmp -o /tmp/bf16_gemm bench/bf16_gemm.cpp -ldnnl -lopenblas
// Run (the environment's OpenBLAS overrides are removed for this process only):
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/bf16_gemm
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/bf16_gemm --reps 20 --block 5 --threads 1,2
// Which oneDNN kernels run (one call of each variant, 1 thread):
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ONEDNN_VERBOSE=1 /tmp/bf16_gemm --reps 1 --block 1 --threads 1
//
// For every shape (M x K x N, C = op(A) . op(B)) and thread count it times
//   ob_f32     OpenBLAS cblas_sgemm, fp32 (what rrhf's native backend calls)
//   dnnl_f32   oneDNN matmul, fp32
//   dnnl_bf16  oneDNN matmul, bf16 A and B, fp32 C (fp32 accumulation: mixed precision)
//   dnnl_bf16o oneDNN matmul, bf16 A and B, bf16 C
//   cvt_A, cvt_B  oneDNN reorder fp32 -> bf16 of A and of B (the conversion that
//                 mixed precision pays on every step)
// Variants are interleaved inside the process: round r runs a block of each
// variant in turn (ob_f32, dnnl_f32, dnnl_bf16, dnnl_bf16o, cvt_A, cvt_B), then
// round r+1, ... Each block starts with one untimed call. Between blocks at
// more than one thread the program sleeps --pause-ms (default 150) so that
// the idle worker threads of the other library (OpenBLAS's spin for ~2^28
// cycles after a call, GNU OpenMP's for a shorter while) have gone to sleep
// and do not steal a core from the variant being timed.
// Output: one TSV line per (shape, threads, variant), prefixed "R\t":
//   R shape threads variant best_ms median_ms best_gflops median_gflops label
// and one "E\t" line per shape with the error of the bf16 results against fp32.
// GFLOP/s = 2*M*N*K / time. For cvt_* the GFLOP/s columns are 0.
// oneDNN threading: Debian's libdnnl 2.6.3 is built with DNNL_CPU_RUNTIME=OMP
// (libgomp), so its thread count is omp_set_num_threads(); OpenBLAS (the
// pthread build) takes openblas_set_num_threads().

#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace dnnl;
using clk = std::chrono::steady_clock;

struct Shape {
  const char *label;
  int M, K, N;
  bool ta, tb;  // A stored K x M (used as A^T), B stored N x K (used as B^T)
};

static const Shape kShapes[] = {
    // small: GPT-2 6 x 384, ff 1536, vocab 8192; 449 tokens per step
    {"small qkv", 449, 384, 1152, false, false},
    {"small attn.proj", 449, 384, 384, false, false},
    {"small mlp.fc", 449, 384, 1536, false, false},
    {"small mlp.proj", 449, 1536, 384, false, false},
    {"small lm_head all rows X.W^T", 449, 384, 8192, false, true},
    {"small lm_head scored X.W^T", 256, 384, 8192, false, true},
    {"small mlp.fc bwd dX=dY.W^T", 449, 1536, 384, false, true},
    {"small mlp.fc bwd dW=X^T.dY", 384, 449, 1536, true, false},
    // SmolLM-135M: Llama 30 x 576, GQA 9/3, intermediate 1536, vocab 49152
    {"smollm q/o", 449, 576, 576, false, false},
    {"smollm k/v", 449, 576, 192, false, false},
    {"smollm gate/up", 449, 576, 1536, false, false},
    {"smollm down", 449, 1536, 576, false, false},
    {"smollm lm_head scored X.W^T", 256, 576, 49152, false, true},
    {"smollm down bwd dX=dY.W^T", 449, 576, 1536, false, true},
    {"smollm gate bwd dW=X^T.dY", 576, 449, 1536, true, false},
};

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

static const char *isa_name(cpu_isa isa) {
  switch (isa) {
    case cpu_isa::avx2: return "avx2";
    case cpu_isa::avx512_core: return "avx512_core";
    case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

int main(int argc, char **argv) {
  int reps = 20, block = 5, pause_ms = 150;
  std::vector<int> threads = {1, 2};
  std::string only;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--block" && i + 1 < argc) block = std::atoi(argv[++i]);
    else if (a == "--pause-ms" && i + 1 < argc) pause_ms = std::atoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      std::string s = argv[++i];
      size_t p = 0;
      while (p < s.size()) {
        size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        threads.push_back(std::atoi(s.substr(p, q - p).c_str()));
        p = q + 1;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--block N] [--pause-ms N] [--threads 1,2] [--only LABEL]\n", argv[0]);
      return 2;
    }
  }
  if (block < 1) block = 1;
  if (reps < block) block = reps;

  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  std::printf("# oneDNN %d.%d.%d, effective ISA %s; OpenBLAS %s core %s\n", dnnl_version()->major,
              dnnl_version()->minor, dnnl_version()->patch, isa_name(get_effective_cpu_isa()),
              openblas_get_config(), openblas_get_corename());
  std::printf("# reps %d, block %d, pause %d ms between blocks at >1 thread\n", reps, block, pause_ms);

  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);

  for (const Shape &s : kShapes) {
    if (!only.empty() && only != s.label) continue;
    const int M = s.M, K = s.K, N = s.N;
    const double flop = 2.0 * M * N * K;
    std::vector<float> A(size_t(M) * K), B(size_t(K) * N), Cob(size_t(M) * N), Cdn(size_t(M) * N),
        Cbf(size_t(M) * N);
    std::vector<uint16_t> Abf(A.size()), Bbf(B.size()), Cbfo(size_t(M) * N);
    for (float &x : A) x = uni(rng);
    for (float &x : B) x = uni(rng);

    // Memory descriptors: logical dims {M,K}, {K,N}, {M,N}; the transposed
    // operands are stored column-major ("ba"), as rrhf stores them row-major
    // the other way round.
    using dt = memory::data_type;
    using tag = memory::format_tag;
    auto a_tag = s.ta ? tag::ba : tag::ab;
    auto b_tag = s.tb ? tag::ba : tag::ab;
    memory::desc a32({M, K}, dt::f32, a_tag), b32({K, N}, dt::f32, b_tag), c32({M, N}, dt::f32, tag::ab);
    memory::desc a16({M, K}, dt::bf16, a_tag), b16({K, N}, dt::bf16, b_tag), c16({M, N}, dt::bf16, tag::ab);
    memory mA32(a32, eng, A.data()), mB32(b32, eng, B.data()), mC32(c32, eng, Cdn.data());
    memory mA16(a16, eng, Abf.data()), mB16(b16, eng, Bbf.data()), mCbf(c32, eng, Cbf.data());
    memory mC16(c16, eng, Cbfo.data());

    for (int nt : threads) {
      openblas_set_num_threads(nt);
      omp_set_num_threads(nt);
      // Primitives are created after the thread count is set (oneDNN reads
      // omp_get_max_threads() when it creates a primitive).
      matmul mm32(matmul::primitive_desc(matmul::desc(a32, b32, c32), eng));
      matmul mm16(matmul::primitive_desc(matmul::desc(a16, b16, c32), eng));
      matmul mm16o(matmul::primitive_desc(matmul::desc(a16, b16, c16), eng));
      reorder cvtA(mA32, mA16), cvtB(mB32, mB16);

      const char *names[] = {"ob_f32", "dnnl_f32", "dnnl_bf16", "dnnl_bf16o", "cvt_A", "cvt_B"};
      const int NV = 6;
      auto call = [&](int v) {
        switch (v) {
          case 0:
            cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, M, N, K,
                        1.f, A.data(), s.ta ? M : K, B.data(), s.tb ? K : N, 0.f, Cob.data(), N);
            break;
          case 1:
            mm32.execute(strm, {{DNNL_ARG_SRC, mA32}, {DNNL_ARG_WEIGHTS, mB32}, {DNNL_ARG_DST, mC32}});
            strm.wait();
            break;
          case 2:
            mm16.execute(strm, {{DNNL_ARG_SRC, mA16}, {DNNL_ARG_WEIGHTS, mB16}, {DNNL_ARG_DST, mCbf}});
            strm.wait();
            break;
          case 3:
            mm16o.execute(strm, {{DNNL_ARG_SRC, mA16}, {DNNL_ARG_WEIGHTS, mB16}, {DNNL_ARG_DST, mC16}});
            strm.wait();
            break;
          case 4:
            cvtA.execute(strm, mA32, mA16);
            strm.wait();
            break;
          case 5:
            cvtB.execute(strm, mB32, mB16);
            strm.wait();
            break;
        }
      };
      // The bf16 inputs must exist before the first bf16 matmul.
      call(4);
      call(5);

      std::vector<std::vector<double>> ms(NV);
      for (int done = 0; done < reps; done += block) {
        const int n = std::min(block, reps - done);
        for (int v = 0; v < NV; v++) {
          if (nt > 1 && pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
          call(v);  // untimed: wakes threads, warms caches
          for (int r = 0; r < n; r++) {
            auto t0 = clk::now();
            call(v);
            auto t1 = clk::now();
            ms[v].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          }
        }
      }
      for (int v = 0; v < NV; v++) {
        double best = *std::min_element(ms[v].begin(), ms[v].end()), med = median(ms[v]);
        double gb = v < 4 ? flop / (best * 1e6) : 0, gm = v < 4 ? flop / (med * 1e6) : 0;
        std::printf("R\t%dx%dx%d%s%s\t%d\t%s\t%.4f\t%.4f\t%.1f\t%.1f\t%s\n", M, K, N, s.ta ? " A^T" : "",
                    s.tb ? " B^T" : "", nt, names[v], best, med, gb, gm, s.label);
      }
      std::fflush(stdout);
    }

    // Numerical sanity: bf16 results against OpenBLAS fp32 (all from the same
    // inputs; the bf16 inputs are the round-to-nearest-even conversions).
    double maxref = 0, maxd32 = 0, maxdbf = 0, maxdbfo = 0, num = 0, den = 0;
    for (size_t i = 0; i < Cob.size(); i++) {
      double r = Cob[i];
      maxref = std::max(maxref, std::fabs(r));
      maxd32 = std::max(maxd32, std::fabs(Cdn[i] - r));
      maxdbf = std::max(maxdbf, std::fabs(Cbf[i] - r));
      maxdbfo = std::max(maxdbfo, std::fabs(bf16_to_f32(Cbfo[i]) - r));
      num += (Cbf[i] - r) * (Cbf[i] - r);
      den += r * r;
    }
    std::printf("E\t%dx%dx%d%s%s\tmax|C|=%.3g\tdnnl_f32 max|d|/max|C|=%.2e\tdnnl_bf16 max|d|/max|C|=%.2e "
                "rel-Frobenius=%.2e\tdnnl_bf16o max|d|/max|C|=%.2e\n",
                M, K, N, s.ta ? " A^T" : "", s.tb ? " B^T" : "", maxref, maxd32 / maxref, maxdbf / maxref,
                std::sqrt(num / den), maxdbfo / maxref);
    std::fflush(stdout);
  }
  return 0;
}

// Standalone harness: the seed MNIST net's hot kernels at batch 128 on one
// thread, with oneDNN (fixed NHWC/HWIO formats, and oneDNN's own blocked
// formats plus the reorders they need), OpenBLAS sgemm + im2col, and the
// sgemm peak of both libraries. Build and run: bench/native-harness/run.sh.
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

int g_reps = 15;

double medianMs(const std::function<void()> &fn) {
  fn();  // warm-up: JIT, first-touch of buffers
  fn();
  std::vector<double> times;
  for (int i = 0; i < g_reps; i++) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto &x : v) x = dist(gen);
  return v;
}

struct Conv {
  const char *name;
  int n, h, w, ci, co, k, pad;  // square kernel, stride 1, symmetric pad ("same")
  bool needInputGrad;
  double macs() const { return double(n) * h * w * co * ci * k * k; }
};

void report(const char *lib, const char *kernel, double ms, double flop) {
  std::printf("%-22s %-34s %8.2f ms %7.1f GFLOP/s\n", lib, kernel, ms, flop / ms / 1e6);
}

// ---- oneDNN convolutions ---------------------------------------------------

struct DnnlConvTimes {
  double fwd = 0, bwdData = 0, bwdWeights = 0;
};

DnnlConvTimes dnnlConv(const Conv &c, bool blocked, dnnl::engine &eng, dnnl::stream &s) {
  memory::dims src{c.n, c.ci, c.h, c.w}, wei{c.co, c.ci, c.k, c.k}, dst{c.n, c.co, c.h, c.w};
  memory::dims strides{1, 1}, padL{c.pad, c.pad}, padR{c.pad, c.pad};
  auto srcNhwc = memory::desc(src, dt::f32, tag::nhwc);
  auto weiHwio = memory::desc(wei, dt::f32, tag::hwio);
  auto dstNhwc = memory::desc(dst, dt::f32, tag::nhwc);
  auto srcMd = blocked ? memory::desc(src, dt::f32, tag::any) : srcNhwc;
  auto weiMd = blocked ? memory::desc(wei, dt::f32, tag::any) : weiHwio;
  auto dstMd = blocked ? memory::desc(dst, dt::f32, tag::any) : dstNhwc;

  auto xs = randomVector(size_t(c.n) * c.h * c.w * c.ci, 1);
  auto ws = randomVector(size_t(c.k) * c.k * c.ci * c.co, 2);
  auto dys = randomVector(size_t(c.n) * c.h * c.w * c.co, 3);
  std::vector<float> ys(dys.size()), dxs(xs.size()), dws(ws.size());
  memory xUser(srcNhwc, eng, xs.data()), wUser(weiHwio, eng, ws.data()), yUser(dstNhwc, eng, ys.data());
  memory dyUser(dstNhwc, eng, dys.data()), dxUser(srcNhwc, eng, dxs.data()), dwUser(weiHwio, eng, dws.data());

  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                     srcMd, weiMd, dstMd, strides, padL, padR);
  dnnl::convolution_forward::primitive_desc fpd(fd, eng);
  dnnl::convolution_backward_data::desc bdd(dnnl::algorithm::convolution_direct, srcMd, weiMd, dstMd, strides, padL, padR);
  dnnl::convolution_backward_data::primitive_desc bdpd(bdd, eng, fpd);
  dnnl::convolution_backward_weights::desc bwd(dnnl::algorithm::convolution_direct, srcMd, weiMd, dstMd, strides, padL, padR);
  dnnl::convolution_backward_weights::primitive_desc bwpd(bwd, eng, fpd);
  std::printf("  %s %s impl: fwd %s, bwd-data %s, bwd-weights %s\n", c.name, blocked ? "blocked" : "nhwc",
              fpd.impl_info_str(), bdpd.impl_info_str(), bwpd.impl_info_str());

  // Reorders into and out of the primitive's formats are part of the cost.
  auto into = [&](memory &user, const memory::desc &want) {
    if (want == user.get_desc()) return std::function<memory()>([&user] { return user; });
    auto m = std::make_shared<memory>(want, eng);
    auto r = std::make_shared<dnnl::reorder>(user, *m);
    return std::function<memory()>([&user, m, r, &s] { r->execute(s, user, *m); return *m; });
  };
  auto outOf = [&](memory &user, const memory::desc &have) {
    if (have == user.get_desc()) return std::make_pair(user, std::function<void()>([] {}));
    memory m(have, eng);
    auto r = std::make_shared<dnnl::reorder>(m, user);
    return std::make_pair(m, std::function<void()>([m, r, &user, &s]() mutable { r->execute(s, m, user); }));
  };

  DnnlConvTimes t;
  {
    dnnl::convolution_forward prim(fpd);
    auto xIn = into(xUser, fpd.src_desc());
    auto wIn = into(wUser, fpd.weights_desc());
    auto yOut = outOf(yUser, fpd.dst_desc());
    t.fwd = medianMs([&] {
      prim.execute(s, {{DNNL_ARG_SRC, xIn()}, {DNNL_ARG_WEIGHTS, wIn()}, {DNNL_ARG_DST, yOut.first}});
      yOut.second();
      s.wait();
    });
  }
  if (c.needInputGrad) {
    dnnl::convolution_backward_data prim(bdpd);
    auto dyIn = into(dyUser, bdpd.diff_dst_desc());
    auto wIn = into(wUser, bdpd.weights_desc());
    auto dxOut = outOf(dxUser, bdpd.diff_src_desc());
    t.bwdData = medianMs([&] {
      prim.execute(s, {{DNNL_ARG_DIFF_DST, dyIn()}, {DNNL_ARG_WEIGHTS, wIn()}, {DNNL_ARG_DIFF_SRC, dxOut.first}});
      dxOut.second();
      s.wait();
    });
  }
  {
    dnnl::convolution_backward_weights prim(bwpd);
    auto xIn = into(xUser, bwpd.src_desc());
    auto dyIn = into(dyUser, bwpd.diff_dst_desc());
    auto dwOut = outOf(dwUser, bwpd.diff_weights_desc());
    t.bwdWeights = medianMs([&] {
      prim.execute(s, {{DNNL_ARG_SRC, xIn()}, {DNNL_ARG_DIFF_DST, dyIn()}, {DNNL_ARG_DIFF_WEIGHTS, dwOut.first}});
      dwOut.second();
      s.wait();
    });
  }
  return t;
}

// ---- OpenBLAS im2col convolutions ---------------------------------------------

// patches [n·h·w, k·k·ci] from NHWC x (stride 1, same padding)
void im2col(const Conv &c, const float *x, float *patches) {
  const int kk = c.k * c.k * c.ci;
  for (int b = 0; b < c.n; b++)
    for (int oy = 0; oy < c.h; oy++)
      for (int ox = 0; ox < c.w; ox++) {
        float *row = patches + ((size_t(b) * c.h + oy) * c.w + ox) * kk;
        for (int ky = 0; ky < c.k; ky++) {
          int iy = oy + ky - c.pad;
          for (int kx = 0; kx < c.k; kx++) {
            int ix = ox + kx - c.pad;
            float *dst = row + (ky * c.k + kx) * c.ci;
            if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) {
              std::memset(dst, 0, sizeof(float) * c.ci);
            } else {
              std::memcpy(dst, x + ((size_t(b) * c.h + iy) * c.w + ix) * c.ci, sizeof(float) * c.ci);
            }
          }
        }
      }
}

void col2im(const Conv &c, const float *patches, float *dx) {
  const int kk = c.k * c.k * c.ci;
  std::memset(dx, 0, sizeof(float) * size_t(c.n) * c.h * c.w * c.ci);
  for (int b = 0; b < c.n; b++)
    for (int oy = 0; oy < c.h; oy++)
      for (int ox = 0; ox < c.w; ox++) {
        const float *row = patches + ((size_t(b) * c.h + oy) * c.w + ox) * kk;
        for (int ky = 0; ky < c.k; ky++) {
          int iy = oy + ky - c.pad;
          if (iy < 0 || iy >= c.h) continue;
          for (int kx = 0; kx < c.k; kx++) {
            int ix = ox + kx - c.pad;
            if (ix < 0 || ix >= c.w) continue;
            float *dst = dx + ((size_t(b) * c.h + iy) * c.w + ix) * c.ci;
            const float *src = row + (ky * c.k + kx) * c.ci;
            for (int i = 0; i < c.ci; i++) dst[i] += src[i];
          }
        }
      }
}

DnnlConvTimes blasConv(const Conv &c) {
  const int pixels = c.n * c.h * c.w, kk = c.k * c.k * c.ci;
  auto xs = randomVector(size_t(pixels) * c.ci, 1);
  auto ws = randomVector(size_t(kk) * c.co, 2);  // HWIO = [kk, co] row-major
  auto dys = randomVector(size_t(pixels) * c.co, 3);
  std::vector<float> patches(size_t(pixels) * kk), ys(dys.size()), dxs(xs.size()), dws(ws.size());
  DnnlConvTimes t;
  t.fwd = medianMs([&] {
    im2col(c, xs.data(), patches.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, pixels, c.co, kk, 1.f, patches.data(), kk, ws.data(), c.co, 0.f,
                ys.data(), c.co);
  });
  if (c.needInputGrad) {
    t.bwdData = medianMs([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, pixels, kk, c.co, 1.f, dys.data(), c.co, ws.data(), c.co, 0.f,
                  patches.data(), kk);
      col2im(c, patches.data(), dxs.data());
    });
  }
  t.bwdWeights = medianMs([&] {
    im2col(c, xs.data(), patches.data());
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kk, c.co, pixels, 1.f, patches.data(), kk, dys.data(), c.co, 0.f,
                dws.data(), c.co);
  });
  return t;
}

// ---- dense layers -------------------------------------------------------------

using Gemm = std::function<void(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                                float *c, int ldc)>;

double denseMs(const Gemm &gemm, int batch, int in, int out, bool needInputGrad) {
  auto x = randomVector(size_t(batch) * in, 1), w = randomVector(size_t(in) * out, 2), dy = randomVector(size_t(batch) * out, 3);
  std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
  return medianMs([&] { gemm(false, false, batch, out, in, x.data(), in, w.data(), out, y.data(), out); }) +
         medianMs([&] { gemm(true, false, in, out, batch, x.data(), in, dy.data(), out, dw.data(), out); }) +
         (needInputGrad ? medianMs([&] { gemm(false, true, batch, in, out, dy.data(), out, w.data(), out, dx.data(), in); }) : 0);
}

double sgemmPeak(const Gemm &gemm, int n) {
  auto a = randomVector(size_t(n) * n, 1), b = randomVector(size_t(n) * n, 2);
  std::vector<float> c(size_t(n) * n);
  double ms = medianMs([&] { gemm(false, false, n, n, n, a.data(), n, b.data(), n, c.data(), n); });
  return 2.0 * n * n * n / ms / 1e6;
}

}  // namespace

int main(int argc, char **argv) {
  int batch = argc > 1 ? std::atoi(argv[1]) : 128;
  if (argc > 2) g_reps = std::atoi(argv[2]);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const dnnl_version_t *v = dnnl_version();
  std::printf("oneDNN %d.%d.%d (%s), OpenBLAS %s, batch %d, %d reps, median\n", v->major, v->minor, v->patch, v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other", openblas_get_config(), batch, g_reps);

  Gemm dnnlGemm = [](bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
  };
  Gemm blasGemm = [](bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.f, a, lda, b, ldb, 0.f,
                c, ldc);
  };
  for (int n : {512, 1024, 2048}) {
    std::printf("sgemm %d^3: oneDNN %.1f GFLOP/s, OpenBLAS %.1f GFLOP/s\n", n, sgemmPeak(dnnlGemm, n), sgemmPeak(blasGemm, n));
  }

  Conv convs[] = {{"conv1 28x28x1->32 5x5", batch, 28, 28, 1, 32, 5, 2, false},
                  {"conv2 14x14x32->64 5x5", batch, 14, 14, 32, 64, 5, 2, true}};
  double total[3] = {0, 0, 0};  // oneDNN nhwc, oneDNN blocked, OpenBLAS im2col
  for (const Conv &c : convs) {
    DnnlConvTimes r[3] = {dnnlConv(c, false, eng, s), dnnlConv(c, true, eng, s), blasConv(c)};
    const char *libs[3] = {"oneDNN nhwc/hwio", "oneDNN blocked+reorder", "OpenBLAS im2col"};
    for (int i = 0; i < 3; i++) {
      report(libs[i], (std::string(c.name) + " fwd").c_str(), r[i].fwd, 2 * c.macs());
      if (c.needInputGrad) report(libs[i], (std::string(c.name) + " bwd-data").c_str(), r[i].bwdData, 2 * c.macs());
      report(libs[i], (std::string(c.name) + " bwd-weights").c_str(), r[i].bwdWeights, 2 * c.macs());
      total[i] += r[i].fwd + r[i].bwdData + r[i].bwdWeights;
    }
  }
  double dense[2] = {denseMs(dnnlGemm, batch, 3136, 1024, true) + denseMs(dnnlGemm, batch, 1024, 10, true),
                     denseMs(blasGemm, batch, 3136, 1024, true) + denseMs(blasGemm, batch, 1024, 10, true)};
  double denseFlop = 2.0 * 3 * batch * (3136.0 * 1024 + 1024 * 10);
  report("oneDNN sgemm", "dense 3136->1024->10 fwd+bwd", dense[0], denseFlop);
  report("OpenBLAS sgemm", "dense 3136->1024->10 fwd+bwd", dense[1], denseFlop);

  double convFlop = 0;
  for (const Conv &c : convs) convFlop += 2 * c.macs() * (c.needInputGrad ? 3 : 2);
  std::printf("\nseed net, one training batch of %d, matmul/conv kernels only:\n", batch);
  const char *combos[3] = {"oneDNN nhwc conv + oneDNN sgemm", "oneDNN blocked conv + oneDNN sgemm", "OpenBLAS im2col + sgemm"};
  double denseFor[3] = {dense[0], dense[0], dense[1]};
  for (int i = 0; i < 3; i++) {
    double ms = total[i] + denseFor[i];
    std::printf("  %-36s %8.2f ms  %7.1f GFLOP/s  ceiling %6.0f samples/s\n", combos[i], ms, (convFlop + denseFlop) / ms / 1e6,
                batch * 1000.0 / ms);
  }
  return 0;
}

// Standalone harness: the seed MNIST net's hot kernels at batch 128 on one
// thread with libtorch's ATen, reading and writing NHWC buffers as our
// engine would (channels-last views of the caller's memory; results copied
// into the caller's buffers, since ATen's convolutions allocate their own).
// Build and run: bench/native-harness/run.sh.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace {

int g_reps = 15;

double medianMs(const std::function<void()> &fn) {
  fn();
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

// An NCHW-shaped view of an NHWC buffer (ATen's channels-last layout).
at::Tensor nhwc(at::Tensor buffer) { return buffer.permute({0, 3, 1, 2}); }

void report(const char *kernel, double ms, double flop) {
  std::printf("%-22s %-34s %8.2f ms %7.1f GFLOP/s\n", "ATen", kernel, ms, flop / ms / 1e6);
}

struct Conv {
  const char *name;
  int n, h, w, ci, co, k, pad;
  bool needInputGrad;
  double macs() const { return double(n) * h * w * co * ci * k * k; }
};

double conv(const Conv &c) {
  auto x = at::rand({c.n, c.h, c.w, c.ci}) * 2 - 1;
  auto wHwio = at::rand({c.k, c.k, c.ci, c.co}) * 2 - 1;
  auto dy = at::rand({c.n, c.h, c.w, c.co}) * 2 - 1;
  auto y = at::empty({c.n, c.h, c.w, c.co});
  auto dx = at::empty({c.n, c.h, c.w, c.ci});
  auto dwHwio = at::empty({c.k, c.k, c.ci, c.co});
  std::vector<int64_t> stride{1, 1}, padding{c.pad, c.pad}, dilation{1, 1}, outPad{0, 0};
  // HWIO -> OIHW in channels-last (OHWI) memory: a reorder of the small filter, counted.
  auto weight = [&] { return wHwio.permute({3, 2, 0, 1}).contiguous(at::MemoryFormat::ChannelsLast); };
  double fwd = medianMs([&] {
    auto out = at::convolution(nhwc(x), weight(), {}, stride, padding, dilation, false, outPad, 1);
    nhwc(y).copy_(out);
  });
  double bwdData = 0;
  if (c.needInputGrad) {
    bwdData = medianMs([&] {
      auto grads = at::convolution_backward(nhwc(dy), nhwc(x), weight(), at::nullopt, stride, padding, dilation, false, outPad, 1,
                                            {true, false, false});
      nhwc(dx).copy_(std::get<0>(grads));
    });
  }
  double bwdWeights = medianMs([&] {
    auto grads = at::convolution_backward(nhwc(dy), nhwc(x), weight(), at::nullopt, stride, padding, dilation, false, outPad, 1,
                                          {false, true, false});
    dwHwio.copy_(std::get<1>(grads).permute({2, 3, 1, 0}));
  });
  report((std::string(c.name) + " fwd").c_str(), fwd, 2 * c.macs());
  if (c.needInputGrad) report((std::string(c.name) + " bwd-data").c_str(), bwdData, 2 * c.macs());
  report((std::string(c.name) + " bwd-weights").c_str(), bwdWeights, 2 * c.macs());
  return fwd + bwdData + bwdWeights;
}

double dense(int batch, int in, int out) {
  auto x = at::rand({batch, in}), w = at::rand({in, out}), dy = at::rand({batch, out});
  auto y = at::empty({batch, out}), dx = at::empty({batch, in}), dw = at::empty({in, out});
  return medianMs([&] { at::mm_out(y, x, w); }) + medianMs([&] { at::mm_out(dw, x.t(), dy); }) +
         medianMs([&] { at::mm_out(dx, dy, w.t()); });
}

}  // namespace

int main(int argc, char **argv) {
  int batch = argc > 1 ? std::atoi(argv[1]) : 128;
  if (argc > 2) g_reps = std::atoi(argv[2]);
  at::set_num_threads(1);
  std::printf("ATen (libtorch 1.13), %d thread, mkldnn %s, batch %d\n", at::get_num_threads(),
              at::hasMKLDNN() ? "yes" : "no", batch);
  for (int n : {512, 1024, 2048}) {
    auto a = at::rand({n, n}), b = at::rand({n, n}), c = at::empty({n, n});
    double ms = medianMs([&] { at::mm_out(c, a, b); });
    std::printf("ATen mm %d^3: %.1f GFLOP/s\n", n, 2.0 * n * n * n / ms / 1e6);
  }
  Conv convs[] = {{"conv1 28x28x1->32 5x5", batch, 28, 28, 1, 32, 5, 2, false},
                  {"conv2 14x14x32->64 5x5", batch, 14, 14, 32, 64, 5, 2, true}};
  double total = 0, flop = 0;
  for (const Conv &c : convs) {
    total += conv(c);
    flop += 2 * c.macs() * (c.needInputGrad ? 3 : 2);
  }
  double denseMs = dense(batch, 3136, 1024) + dense(batch, 1024, 10);
  double denseFlop = 2.0 * 3 * batch * (3136.0 * 1024 + 1024 * 10);
  report("dense 3136->1024->10 fwd+bwd", denseMs, denseFlop);
  total += denseMs;
  flop += denseFlop;
  std::printf("\nseed net, one training batch of %d, matmul/conv kernels only:\n  %-36s %8.2f ms  %7.1f GFLOP/s  ceiling %6.0f samples/s\n",
              batch, "ATen conv + mm", total, flop / total / 1e6, batch * 1000.0 / total);
  return 0;
}

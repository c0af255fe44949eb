// Convolutions on oneDNN. The caller's tensors are NHWC / HWIO; oneDNN
// 2.6's fast convolutions (jit:avx512_core, avx2, ...) want its blocked
// layouts, so each primitive is built with layouts left to oneDNN and the
// operands are reordered through the workspace. Measured on the seed net,
// that is 1.4-1.8x faster than running oneDNN on NHWC as it is, which picks
// its gemm-based fallback (src/engine/NATIVE.md).
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels.h"

namespace trainyard {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

constexpr int64_t kMaxDim = int64_t(1) << 31;

int64_t geometryValue(const double *values, size_t i, const char *name, int64_t min) {
  double v = values[i];
  if (!(v >= double(min)) || v != std::floor(v) || v >= double(kMaxDim)) {
    throw ArgumentError(std::string("convolution ") + name + " must be an integer >= " + std::to_string(min) + ", got " + std::to_string(v));
  }
  return int64_t(v);
}

void checkSpan(const char *axis, int64_t in, int64_t padBefore, int64_t padAfter, int64_t k, int64_t dilation, int64_t stride,
               int64_t out) {
  int64_t span = in + padBefore + padAfter - ((k - 1) * dilation + 1);
  if (span < 0 || span / stride + 1 != out) {
    throw ArgumentError(std::string("convolution ") + axis + ": input " + std::to_string(in) + " with pads " + std::to_string(padBefore) +
                        "+" + std::to_string(padAfter) + ", kernel " + std::to_string(k) + ", dilation " + std::to_string(dilation) +
                        " and stride " + std::to_string(stride) + " does not give output " + std::to_string(out));
  }
}

struct Descs {
  memory::desc src, wei, dst, bias;
  memory::dims strides, dilates, padL, padR;
};

Descs descsOf(const ConvGeometry &g) {
  Descs d;
  d.src = memory::desc({g.n, g.ci, g.ih, g.iw}, dt::f32, tag::nhwc);
  d.wei = memory::desc({g.co, g.ci, g.kh, g.kw}, dt::f32, tag::hwio);
  d.dst = memory::desc({g.n, g.co, g.oh, g.ow}, dt::f32, tag::nhwc);
  d.bias = memory::desc({g.co}, dt::f32, tag::a);
  d.strides = {g.sh, g.sw};
  // oneDNN counts dilation from 0 (no gaps), tfjs from 1.
  d.dilates = {g.dh - 1, g.dw - 1};
  d.padL = {g.pt, g.pl};
  d.padR = {g.pb, g.pr};
  return d;
}

memory::desc any(const memory::desc &md) { return memory::desc(md.dims(), dt::f32, tag::any); }

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// The training-mode forward descriptor that backward primitives are built against.
dnnl::convolution_forward::primitive_desc forwardHint(Context &ctx, const Descs &d) {
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, any(d.src), any(d.wei),
                                     any(d.dst), d.strides, d.dilates, d.padL, d.padR);
  return dnnl::convolution_forward::primitive_desc(fd, ctx.engine);
}

int64_t geometryKey(const ConvGeometry &g, size_t i) {
  const int64_t values[] = {g.n, g.ih, g.iw, g.ci, g.oh, g.ow, g.co, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb, g.pr};
  return values[i];
}

std::string keyOf(const char *kind, const ConvGeometry &g, int64_t extra1 = 0, int64_t extra2 = 0) {
  std::string key(kind);
  for (size_t i = 0; i < 17; i++) {
    key += ':';
    key += std::to_string(geometryKey(g, i));
  }
  key += ':' + std::to_string(extra1) + ':' + std::to_string(extra2);
  return key;
}

// Which of a convolution's three tensors an operand is: the input (NHWC),
// the filter (HWIO) or the output (NHWC), or their gradients.
enum class Role { src, wei, dst };

size_t floatsOf(const ConvGeometry &g, Role role) {
  switch (role) {
    case Role::src:
      return size_t(g.n * g.ih * g.iw * g.ci);
    case Role::wei:
      return size_t(g.kh * g.kw * g.ci * g.co);
    case Role::dst:
      return size_t(g.n * g.oh * g.ow * g.co);
  }
  return 0;
}

const memory::desc &descOf(const Descs &d, Role role) { return role == Role::src ? d.src : role == Role::wei ? d.wei : d.dst; }

struct BackwardOperand {
  int arg;
  Role role;
  double at;
  const char *what;
};

// A backward convolution (data or weights), built against the training-mode
// forward descriptor. Its operands come in the order the caller checks and
// passes them: the two it reads, then the gradient it writes.
template <typename Primitive>
void convBackward(Context &ctx, const Heap &heap, const ConvGeometry &g, const char *kind, const std::array<BackwardOperand, 3> &ops) {
  std::vector<float *> pointers;
  pointers.reserve(ops.size());
  for (const BackwardOperand &op : ops) pointers.push_back(heap.floats(op.at, floatsOf(g, op.role), op.what));
  auto entry = cachedEntry(ctx, keyOf(kind, g), [&] {
    Descs d = descsOf(g);
    typename Primitive::desc bd(dnnl::algorithm::convolution_direct, any(d.src), any(d.wei), any(d.dst), d.strides, d.dilates, d.padL,
                                d.padR);
    typename Primitive::primitive_desc pd(bd, userScratchpad(), ctx.engine, forwardHint(ctx, d));
    std::vector<OperandSpec> specs;
    for (size_t i = 0; i < ops.size(); i++) specs.push_back({ops[i].arg, descOf(d, ops[i].role), i == ops.size() - 1});
    return makeEntry(ctx, pd, Primitive(pd), specs);
  });
  ctx.execute(*entry, pointers);
}

}  // namespace

ConvGeometry convGeometry(const double *v, size_t count) {
  if (count != 17) throw ArgumentError("convolution geometry must have 17 numbers, got " + std::to_string(count));
  ConvGeometry g{};
  g.n = geometryValue(v, 0, "batch", 1);
  g.ih = geometryValue(v, 1, "input height", 1);
  g.iw = geometryValue(v, 2, "input width", 1);
  g.ci = geometryValue(v, 3, "input channels", 1);
  g.oh = geometryValue(v, 4, "output height", 1);
  g.ow = geometryValue(v, 5, "output width", 1);
  g.co = geometryValue(v, 6, "output channels", 1);
  g.kh = geometryValue(v, 7, "filter height", 1);
  g.kw = geometryValue(v, 8, "filter width", 1);
  g.sh = geometryValue(v, 9, "stride height", 1);
  g.sw = geometryValue(v, 10, "stride width", 1);
  g.dh = geometryValue(v, 11, "dilation height", 1);
  g.dw = geometryValue(v, 12, "dilation width", 1);
  g.pt = geometryValue(v, 13, "pad top", 0);
  g.pl = geometryValue(v, 14, "pad left", 0);
  g.pb = geometryValue(v, 15, "pad bottom", 0);
  g.pr = geometryValue(v, 16, "pad right", 0);
  checkSpan("height", g.ih, g.pt, g.pb, g.kh, g.dh, g.sh, g.oh);
  checkSpan("width", g.iw, g.pl, g.pr, g.kw, g.dw, g.sw, g.ow);
  return g;
}

void convForward(Context &ctx, const Heap &heap, const ConvGeometry &g, const ConvOffsets &at, Activation act, float alpha) {
  const bool hasBias = at.bias >= 0;
  float *x = heap.floats(at.x, floatsOf(g, Role::src), "x");
  float *w = heap.floats(at.w, floatsOf(g, Role::wei), "filter");
  float *bias = hasBias ? heap.floats(at.bias, size_t(g.co), "bias") : nullptr;
  float *y = heap.floats(at.y, floatsOf(g, Role::dst), "output");

  // The activation's parameter is part of the key: it is baked into the primitive.
  int64_t alphaBits = 0;
  std::memcpy(&alphaBits, &alpha, sizeof(float));
  std::string key = keyOf("conv-fwd", g, (int64_t(act) << 1) | int64_t(hasBias), alphaBits);
  auto entry = cachedEntry(ctx, key, [&] {
    Descs d = descsOf(g);
    dnnl::post_ops ops;
    switch (act) {
      case Activation::linear:
        break;
      case Activation::relu:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        break;
      case Activation::leakyrelu:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, alpha, 0.f);
        break;
      case Activation::relu6:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
        break;
      case Activation::elu:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, 1.f, 0.f);
        break;
      case Activation::sigmoid:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f);
        break;
    }
    dnnl::primitive_attr attr = userScratchpad();
    attr.set_post_ops(ops);
    auto fd = hasBias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, any(d.src),
                                                        any(d.wei), d.bias, any(d.dst), d.strides, d.dilates, d.padL, d.padR)
                      : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, any(d.src),
                                                        any(d.wei), any(d.dst), d.strides, d.dilates, d.padL, d.padR);
    dnnl::convolution_forward::primitive_desc pd(fd, attr, ctx.engine);
    std::vector<OperandSpec> specs{{DNNL_ARG_SRC, d.src, false}, {DNNL_ARG_WEIGHTS, d.wei, false}};
    if (hasBias) specs.push_back({DNNL_ARG_BIAS, d.bias, false});
    specs.push_back({DNNL_ARG_DST, d.dst, true});
    return makeEntry(ctx, pd, dnnl::convolution_forward(pd), specs);
  });
  std::vector<float *> pointers{x, w};
  if (hasBias) pointers.push_back(bias);
  pointers.push_back(y);
  ctx.execute(*entry, pointers);
}

void convBackwardData(Context &ctx, const Heap &heap, const ConvGeometry &g, double dyAt, double wAt, double dxAt) {
  convBackward<dnnl::convolution_backward_data>(ctx, heap, g, "conv-bwd-data",
                                                {{{DNNL_ARG_DIFF_DST, Role::dst, dyAt, "dy"},
                                                  {DNNL_ARG_WEIGHTS, Role::wei, wAt, "filter"},
                                                  {DNNL_ARG_DIFF_SRC, Role::src, dxAt, "dx"}}});
}

void convBackwardWeights(Context &ctx, const Heap &heap, const ConvGeometry &g, double xAt, double dyAt, double dwAt) {
  convBackward<dnnl::convolution_backward_weights>(ctx, heap, g, "conv-bwd-weights",
                                                   {{{DNNL_ARG_SRC, Role::src, xAt, "x"},
                                                     {DNNL_ARG_DIFF_DST, Role::dst, dyAt, "dy"},
                                                     {DNNL_ARG_DIFF_WEIGHTS, Role::wei, dwAt, "filter gradient"}}});
}

}  // namespace trainyard

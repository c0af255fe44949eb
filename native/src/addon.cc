// N-API entry points. Each one reads its arguments (the wasm heap's
// ArrayBuffer and Float64Arrays of byte offsets and sizes), runs a kernel
// synchronously on the calling thread, and turns every C++ exception into a
// JavaScript Error with a code, so a failing kernel fails the job that ran
// it, never the process.
#include <node_api.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "context.h"
#include "kernels.h"

namespace trainyard {
namespace {

// Thrown by the argument readers below; carries its own message.
class JsArgumentError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

struct Call {
  napi_env env;
  napi_value argv[6];
  size_t argc = 6;
  Context *ctx = nullptr;

  Call(napi_env e, napi_callback_info info) : env(e) {
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) throw std::runtime_error("cannot read the call's arguments");
    void *data = nullptr;
    if (napi_get_instance_data(env, &data) != napi_ok || !data) throw std::runtime_error("the add-on's context is missing");
    ctx = static_cast<Context *>(data);
  }

  void need(size_t n, const char *signature) const {
    if (argc < n) throw JsArgumentError(std::string("expected ") + signature);
  }

  Heap heap(size_t i) const {
    bool is = false;
    napi_is_arraybuffer(env, argv[i], &is);
    if (!is) throw JsArgumentError("argument " + std::to_string(i) + " must be the wasm heap's ArrayBuffer");
    Heap h;
    void *data = nullptr;
    if (napi_get_arraybuffer_info(env, argv[i], &data, &h.bytes) != napi_ok) throw JsArgumentError("cannot read the heap ArrayBuffer");
    if (!data && h.bytes > 0) throw JsArgumentError("the heap ArrayBuffer is detached");
    h.base = static_cast<uint8_t *>(data);
    return h;
  }

  // A Float64Array argument of exactly `count` numbers (count 0: any).
  const double *numbers(size_t i, size_t count, size_t *actual = nullptr) const {
    bool is = false;
    napi_is_typedarray(env, argv[i], &is);
    napi_typedarray_type type;
    size_t length = 0;
    void *data = nullptr;
    if (is) napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr);
    if (!is || type != napi_float64_array) throw JsArgumentError("argument " + std::to_string(i) + " must be a Float64Array");
    if (count != 0 && length != count) {
      throw JsArgumentError("argument " + std::to_string(i) + " must hold " + std::to_string(count) + " numbers, got " + std::to_string(length));
    }
    if (actual) *actual = length;
    return static_cast<const double *>(data);
  }

  double number(size_t i) const {
    double v = 0;
    if (napi_get_value_double(env, argv[i], &v) != napi_ok || !std::isfinite(v)) {
      throw JsArgumentError("argument " + std::to_string(i) + " must be a finite number");
    }
    return v;
  }
};

void throwJs(napi_env env, const char *code, const std::string &message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, code, message.c_str());
}

// Runs `body`, converting any C++ exception into a pending JavaScript error.
template <typename Body>
napi_value guarded(napi_env env, napi_callback_info info, const char *kernel, Body body) {
  try {
    Call call(env, info);
    if (!call.ctx->fault.empty() && call.ctx->fault == kernel) {
      call.ctx->fault.clear();
      if (call.ctx->faultUnsupported) throw UnsupportedError("unsupported, as a test asked");
      throw std::runtime_error("fault injected by a test");
    }
    return body(call);
  } catch (const ArgumentError &err) {
    throwJs(env, "ERR_NATIVE_ARGUMENT", std::string(kernel) + ": " + err.what());
  } catch (const UnsupportedError &err) {
    throwJs(env, "ERR_NATIVE_UNSUPPORTED", std::string(kernel) + ": " + err.what());
  } catch (const dnnl::error &err) {
    throwJs(env, "ERR_NATIVE_ONEDNN", std::string(kernel) + ": oneDNN failed (status " + std::to_string(int(err.status)) + "): " + err.what());
  } catch (const std::bad_alloc &) {
    throwJs(env, "ERR_NATIVE_OUT_OF_MEMORY", std::string(kernel) + ": out of memory");
  } catch (const std::exception &err) {
    throwJs(env, "ERR_NATIVE_KERNEL", std::string(kernel) + ": " + err.what());
  } catch (...) {
    throwJs(env, "ERR_NATIVE_KERNEL", std::string(kernel) + ": unknown C++ exception");
  }
  return nullptr;
}

napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

void setNumber(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

void setString(napi_env env, napi_value obj, const char *name, const std::string &value) {
  napi_value v;
  napi_create_string_utf8(env, value.c_str(), value.size(), &v);
  napi_set_named_property(env, obj, name, v);
}

// The implementation oneDNN picks for a typical convolution on this CPU,
// e.g. "jit:avx512_core": says which instruction set the kernels use.
std::string probeConvImpl(Context &ctx) {
  using dnnl::memory;
  memory::desc src({8, 32, 14, 14}, memory::data_type::f32, memory::format_tag::any);
  memory::desc wei({64, 32, 5, 5}, memory::data_type::f32, memory::format_tag::any);
  memory::desc dst({8, 64, 14, 14}, memory::data_type::f32, memory::format_tag::any);
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei, dst, {1, 1}, {2, 2},
                                     {2, 2});
  return dnnl::convolution_forward::primitive_desc(fd, ctx.engine).impl_info_str();
}

napi_value Info(napi_env env, napi_callback_info info) {
  return guarded(env, info, "info", [](Call &call) {
    napi_value out;
    napi_create_object(call.env, &out);
    const dnnl_version_t *v = dnnl_version();
    setString(call.env, out, "library", "oneDNN");
    setString(call.env, out, "version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
    setString(call.env, out, "runtime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB" : "other");
    setString(call.env, out, "convolution", probeConvImpl(*call.ctx));
    setNumber(call.env, out, "threads", call.ctx->threads);
    setNumber(call.env, out, "cachedPrimitives", double(call.ctx->cache.size()));
    setNumber(call.env, out, "workspaceBytes", double(call.ctx->workspace.capacity()));
    setNumber(call.env, out, "calls", double(call.ctx->calls));
    return out;
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, info, "setThreads", [](Call &call) {
    call.need(1, "setThreads(threads)");
    double n = call.number(0);
    if (n != std::floor(n) || n < 1 || n > 1024) throw JsArgumentError("threads must be an integer from 1 to 1024");
    call.ctx->setThreads(int(n));
    return undefinedValue(call.env);
  });
}

napi_value ReleaseCaches(napi_env env, napi_callback_info info) {
  return guarded(env, info, "releaseCaches", [](Call &call) {
    call.ctx->cache.clear();
    call.ctx->workspace.release();
    return undefinedValue(call.env);
  });
}

napi_value InjectFault(napi_env env, napi_callback_info info) {
  return guarded(env, info, "injectFault", [](Call &call) {
    call.need(1, "injectFault(kernel, unsupported?)");
    size_t length = 0;
    char name[64] = {0};
    if (napi_get_value_string_utf8(call.env, call.argv[0], name, sizeof(name), &length) != napi_ok) {
      throw JsArgumentError("kernel must be a string");
    }
    call.ctx->fault.assign(name, length);
    bool unsupported = false;
    if (call.argc > 1) napi_get_value_bool(call.env, call.argv[1], &unsupported);
    call.ctx->faultUnsupported = unsupported;
    return undefinedValue(call.env);
  });
}

// conv2d(heap, [x, filter, bias (-1: none), y], geometry[17], activation, alpha)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, info, "conv2d", [](Call &call) {
    call.need(5, "conv2d(heap, offsets, geometry, activation, alpha)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 4);
    size_t count = 0;
    const double *geometry = call.numbers(2, 0, &count);
    ConvGeometry g = convGeometry(geometry, count);
    convForward(*call.ctx, heap, g, {at[0], at[1], at[2], at[3]}, activationFromCode(call.number(3)), float(call.number(4)));
    return undefinedValue(call.env);
  });
}

// conv2dBackpropInput(heap, [dy, filter, dx], geometry[17])
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  return guarded(env, info, "conv2dBackpropInput", [](Call &call) {
    call.need(3, "conv2dBackpropInput(heap, offsets, geometry)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 3);
    size_t count = 0;
    const double *geometry = call.numbers(2, 0, &count);
    convBackwardData(*call.ctx, heap, convGeometry(geometry, count), at[0], at[1], at[2]);
    return undefinedValue(call.env);
  });
}

// conv2dBackpropFilter(heap, [x, dy, dw], geometry[17])
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  return guarded(env, info, "conv2dBackpropFilter", [](Call &call) {
    call.need(3, "conv2dBackpropFilter(heap, offsets, geometry)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 3);
    size_t count = 0;
    const double *geometry = call.numbers(2, 0, &count);
    convBackwardWeights(*call.ctx, heap, convGeometry(geometry, count), at[0], at[1], at[2]);
    return undefinedValue(call.env);
  });
}

int64_t wholeNumber(double v, const char *name) {
  if (v != std::floor(v) || !(v >= 0) || v >= 9007199254740992.0) throw JsArgumentError(std::string("matMul ") + name + " must be a whole number");
  return int64_t(v);
}

// matMul(heap, [a, b, bias (-1: none), c], [batch, m, n, k, transA, transB, strideA, strideB], activation, alpha)
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, info, "matMul", [](Call &call) {
    call.need(5, "matMul(heap, offsets, geometry, activation, alpha)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 4);
    const double *v = call.numbers(2, 8);
    MatMulGeometry g{wholeNumber(v[0], "batch"), wholeNumber(v[1], "m"), wholeNumber(v[2], "n"), wholeNumber(v[3], "k"),
                     v[4] != 0, v[5] != 0, wholeNumber(v[6], "strideA"), wholeNumber(v[7], "strideB")};
    matMul(*call.ctx, heap, g, {at[0], at[1], at[2], at[3]}, activationFromCode(call.number(3)), float(call.number(4)));
    return undefinedValue(call.env);
  });
}

// maxPool(heap, [x, y], geometry[12])
napi_value MaxPool(napi_env env, napi_callback_info info) {
  return guarded(env, info, "maxPool", [](Call &call) {
    call.need(3, "maxPool(heap, offsets, geometry)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 2);
    size_t count = 0;
    const double *geometry = call.numbers(2, 0, &count);
    call.ctx->calls++;
    maxPool(heap, poolGeometry(geometry, count), at[0], at[1]);
    return undefinedValue(call.env);
  });
}

// maxPoolGrad(heap, [x, dy, dx], geometry[12])
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, info, "maxPoolGrad", [](Call &call) {
    call.need(3, "maxPoolGrad(heap, offsets, geometry)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 3);
    size_t count = 0;
    const double *geometry = call.numbers(2, 0, &count);
    call.ctx->calls++;
    maxPoolGrad(heap, poolGeometry(geometry, count), at[0], at[1], at[2]);
    return undefinedValue(call.env);
  });
}

int64_t positiveCount(double v, const char *name) {
  if (v != std::floor(v) || !(v >= 1) || v >= 9007199254740992.0) throw JsArgumentError(std::string(name) + " must be a whole number >= 1");
  return int64_t(v);
}

// sqrt(heap, [x, y], size)
napi_value Sqrt(napi_env env, napi_callback_info info) {
  return guarded(env, info, "sqrt", [](Call &call) {
    call.need(3, "sqrt(heap, offsets, size)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 2);
    call.ctx->calls++;
    squareRoot(heap, at[0], at[1], positiveCount(call.number(2), "size"));
    return undefinedValue(call.env);
  });
}

// addRowVector(heap, [x, v, y], rows, cols)
napi_value AddRowVector(napi_env env, napi_callback_info info) {
  return guarded(env, info, "addRowVector", [](Call &call) {
    call.need(4, "addRowVector(heap, offsets, rows, cols)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 3);
    call.ctx->calls++;
    addRowVector(heap, at[0], at[1], at[2], positiveCount(call.number(2), "rows"), positiveCount(call.number(3), "cols"));
    return undefinedValue(call.env);
  });
}

// sumRows(heap, [x, y], rows, cols, mean)
napi_value SumRows(napi_env env, napi_callback_info info) {
  return guarded(env, info, "sumRows", [](Call &call) {
    call.need(5, "sumRows(heap, offsets, rows, cols, mean)");
    Heap heap = call.heap(0);
    const double *at = call.numbers(1, 2);
    call.ctx->calls++;
    sumRows(heap, at[0], at[1], positiveCount(call.number(2), "rows"), positiveCount(call.number(3), "cols"), call.number(4) != 0);
    return undefinedValue(call.env);
  });
}

void finalizeContext(napi_env, void *data, void *) { delete static_cast<Context *>(data); }

}  // namespace
}  // namespace trainyard

NAPI_MODULE_INIT() {
  using namespace trainyard;
  try {
    auto *ctx = new Context();
    if (napi_set_instance_data(env, ctx, finalizeContext, nullptr) != napi_ok) {
      delete ctx;
      napi_throw_error(env, "ERR_NATIVE_INIT", "cannot attach the add-on's context");
      return nullptr;
    }
  } catch (const std::exception &err) {
    napi_throw_error(env, "ERR_NATIVE_INIT", (std::string("the native engine cannot start: ") + err.what()).c_str());
    return nullptr;
  }
  struct Export {
    const char *name;
    napi_callback fn;
  };
  const Export exports_[] = {
      {"info", Info},
      {"setThreads", SetThreads},
      {"releaseCaches", ReleaseCaches},
      {"injectFault", InjectFault},
      {"conv2d", Conv2d},
      {"conv2dBackpropInput", Conv2dBackpropInput},
      {"conv2dBackpropFilter", Conv2dBackpropFilter},
      {"matMul", MatMul},
      {"maxPool", MaxPool},
      {"maxPoolGrad", MaxPoolGrad},
      {"sqrt", Sqrt},
      {"addRowVector", AddRowVector},
      {"sumRows", SumRows},
  };
  for (const Export &e : exports_) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

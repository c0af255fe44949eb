#include "context.h"

#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <new>

namespace trainyard {

float *Heap::floats(double offset, size_t count, const char *what) const {
  if (!(offset >= 0) || offset != std::floor(offset) || offset > double(bytes)) {
    throw ArgumentError(std::string(what) + ": byte offset " + std::to_string(offset) + " is not inside the heap");
  }
  size_t at = size_t(offset);
  if (at % alignof(float) != 0) throw ArgumentError(std::string(what) + ": byte offset " + std::to_string(at) + " is not 4-byte aligned");
  if (count > (bytes - at) / sizeof(float)) {
    throw ArgumentError(std::string(what) + ": " + std::to_string(count) + " floats at byte " + std::to_string(at) +
                        " run past the end of the heap (" + std::to_string(bytes) + " bytes)");
  }
  return reinterpret_cast<float *>(base + at);
}

void Workspace::Free::operator()(uint8_t *p) const { std::free(p); }

uint8_t *Workspace::reserve(size_t bytes) {
  if (bytes <= capacity_) return data_.get();
  // Grow by at least half again, so a run of slightly larger calls does not reallocate each time.
  size_t want = std::max(bytes, capacity_ + capacity_ / 2);
  want = (want + 63) & ~size_t(63);
  data_.reset();
  capacity_ = 0;
  void *p = std::aligned_alloc(64, want);
  if (!p) throw std::bad_alloc();
  data_.reset(static_cast<uint8_t *>(p));
  capacity_ = want;
  return data_.get();
}

void Workspace::release() {
  data_.reset();
  capacity_ = 0;
}

std::shared_ptr<PrimitiveEntry> PrimitiveCache::find(const std::string &key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void PrimitiveCache::insert(const std::string &key, std::shared_ptr<PrimitiveEntry> entry) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    order_.erase(it->second);
    map_.erase(it);
  }
  order_.emplace_front(key, std::move(entry));
  map_[key] = order_.begin();
  while (map_.size() > capacity_) {
    map_.erase(order_.back().first);
    order_.pop_back();
  }
}

void PrimitiveCache::clear() {
  map_.clear();
  order_.clear();
}

Context::Context() : engine(dnnl::engine::kind::cpu, 0), stream(engine) { setThreads(1); }

void Context::setThreads(int n) {
  if (n < 1) throw ArgumentError("threads must be at least 1, got " + std::to_string(n));
  // oneDNN (OpenMP runtime) sizes its parallel regions by this thread's
  // OpenMP setting; JavaScript calls of one context always come from the
  // same thread, so setting it here is enough.
  omp_set_num_threads(n);
  threads = n;
}

void Context::execute(const PrimitiveEntry &entry, const std::vector<float *> &pointers) {
  calls++;
  Layout layout;
  std::vector<size_t> innerAt(entry.operands.size(), 0);
  for (size_t i = 0; i < entry.operands.size(); i++) {
    if (entry.operands[i].reordered) innerAt[i] = layout.add(entry.operands[i].inner.get_size());
  }
  size_t scratchBytes = entry.scratch.get_size();
  for (const Operand &op : entry.operands) {
    if (op.reordered) scratchBytes = std::max(scratchBytes, op.reorderScratch.get_size());
  }
  size_t scratchAt = layout.add(std::max<size_t>(scratchBytes, 64));
  uint8_t *base = workspace.reserve(layout.total());
  dnnl::memory scratch(dnnl::memory::desc({dnnl::memory::dim(std::max<size_t>(scratchBytes, 64))}, dnnl::memory::data_type::u8,
                                          dnnl::memory::format_tag::a),
                       engine, base + scratchAt);

  std::unordered_map<int, dnnl::memory> args;
  std::vector<std::pair<const Operand *, std::pair<dnnl::memory, dnnl::memory>>> outputs;
  for (size_t i = 0; i < entry.operands.size(); i++) {
    const Operand &op = entry.operands[i];
    dnnl::memory user(op.user, engine, pointers[i]);
    if (!op.reordered) {
      args[op.arg] = user;
      continue;
    }
    dnnl::memory inner(op.inner, engine, base + innerAt[i]);
    args[op.arg] = inner;
    if (op.output) {
      outputs.push_back({&op, {inner, user}});
    } else {
      op.reorder.execute(stream, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, inner}, {DNNL_ARG_SCRATCHPAD, scratch}});
    }
  }
  args[DNNL_ARG_SCRATCHPAD] = scratch;
  entry.primitive.execute(stream, args);
  for (auto &out : outputs) {
    out.first->reorder.execute(stream, {{DNNL_ARG_FROM, out.second.first}, {DNNL_ARG_TO, out.second.second}, {DNNL_ARG_SCRATCHPAD, scratch}});
  }
  stream.wait();
}

std::shared_ptr<PrimitiveEntry> makeEntry(Context &ctx, const dnnl::primitive_desc_base &pd, dnnl::primitive primitive,
                                          const std::vector<OperandSpec> &specs) {
  auto entry = std::make_shared<PrimitiveEntry>();
  entry->primitive = std::move(primitive);
  entry->scratch = pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_SCRATCHPAD);
  entry->impl = pd.impl_info_str();
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  for (const OperandSpec &spec : specs) {
    Operand op;
    op.arg = spec.arg;
    op.output = spec.output;
    op.user = spec.user;
    op.inner = pd.query_md(dnnl::query::exec_arg_md, spec.arg);
    if (!(op.inner == op.user)) {
      op.reordered = true;
      dnnl::reorder::primitive_desc rpd = spec.output ? dnnl::reorder::primitive_desc(ctx.engine, op.inner, ctx.engine, op.user, attr)
                                                      : dnnl::reorder::primitive_desc(ctx.engine, op.user, ctx.engine, op.inner, attr);
      op.reorderScratch = rpd.scratchpad_desc();
      op.reorder = dnnl::reorder(rpd);
    }
    entry->operands.push_back(std::move(op));
  }
  return entry;
}

std::shared_ptr<PrimitiveEntry> cachedEntry(Context &ctx, const std::string &key, const std::function<std::shared_ptr<PrimitiveEntry>()> &build) {
  auto entry = ctx.cache.find(key);
  if (!entry) {
    try {
      entry = build();
    } catch (const dnnl::error &err) {
      if (err.status != dnnl_unimplemented) throw;
      entry = std::make_shared<PrimitiveEntry>();
      entry->unsupported = true;
    }
    ctx.cache.insert(key, entry);
  }
  if (entry->unsupported) throw UnsupportedError("oneDNN has no implementation for this shape");
  return entry;
}

std::string cacheKey(const char *kind, std::initializer_list<int64_t> values) {
  std::string key(kind);
  for (int64_t v : values) {
    key += ':';
    key += std::to_string(v);
  }
  return key;
}

}  // namespace trainyard

// Communicator: checks every argument (so that both backends give the same errors), counts
// point-to-point traffic and forwards to the Backend (whose collectives open their native_*
// scopes themselves).
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "pa3/backend.h"

namespace pa3 {

// ============================================================================================
// Deadline
// ============================================================================================

namespace {
double initial_deadline() {
  const char* env = std::getenv("MLSYS_PA3_DEADLINE_S");
  if (env != nullptr && *env != '\0') {
    char* end = nullptr;
    double v = std::strtod(env, &end);
    if (end != env && *end == '\0' && v > 0 && std::isfinite(v)) return v;
    throw mlsys::Error(std::string("pa3: MLSYS_PA3_DEADLINE_S must be a positive number of "
                                   "seconds, got '") + env + "'");
  }
  return 30.0;
}

std::atomic<double>& deadline_value() {
  static std::atomic<double> value(initial_deadline());
  return value;
}
}  // namespace

void set_deadline(double seconds) {
  MLSYS_CHECK(seconds > 0 && std::isfinite(seconds), "pa3::set_deadline",
              "argument 'seconds' must be a positive finite number, got ", seconds);
  deadline_value().store(seconds);
}

double deadline() { return deadline_value().load(); }

// ============================================================================================
// Request
// ============================================================================================

Request::Request() = default;
Request::Request(std::unique_ptr<RequestImpl> impl) : impl_(std::move(impl)) {}
Request::Request(Request&&) noexcept = default;
Request& Request::operator=(Request&&) noexcept = default;
Request::~Request() = default;

void Request::wait() {
  MLSYS_CHECK(impl_ != nullptr, "pa3::Request::wait", "this request is empty (default-"
              "constructed or moved from)");
  impl_->wait();
}

bool Request::test() {
  MLSYS_CHECK(impl_ != nullptr, "pa3::Request::test", "this request is empty (default-"
              "constructed or moved from)");
  return impl_->test();
}

// ============================================================================================
// Argument checks
// ============================================================================================

namespace {

[[noreturn]] void fail(const char* op, const std::string& message) {
  throw mlsys::Error(std::string("pa3::") + op + ": " + message);
}

template <typename... Args>
std::string cat(const Args&... args) {
  return mlsys::detail::cat(args...);
}

void check_peer(const Backend& b, const char* op, const char* arg, int peer) {
  if (peer < 0 || peer >= b.size())
    fail(op, cat("argument '", arg, "' must be a rank in 0..", b.size() - 1, " of communicator '",
                 b.name(), "' (size ", b.size(), "), got ", peer));
  if (peer == b.rank())
    fail(op, cat("rank ", b.rank(), " names itself as '", arg, "' (communicator '", b.name(),
                 "'); messages to yourself are not allowed (a blocking send to yourself could "
                 "never complete): copy the data instead"));
}

void check_tag(const char* op, int tag) {
  if (tag < 0 || tag > kMaxTag) fail(op, cat("argument 'tag' must be in 0..", kMaxTag, ", got ", tag));
}

void check_tensor(const char* op, const char* arg, const mlsys::Tensor& t) {
  if (!t.defined()) fail(op, cat("argument '", arg, "' is an undefined tensor"));
  if (t.device() != mlsys::Device::CPU)
    fail(op, cat("argument '", arg, "' must be a CPU tensor, got ", t.describe(),
                 "; call .cpu() first"));
  if (!t.is_contiguous())
    fail(op, cat("argument '", arg, "' must be contiguous, got ", t.describe(), " with strides ",
                 mlsys::to_string(t.strides()), "; send t.contiguous() (or receive into a "
                 "contiguous tensor and copy_ it into place)"));
}

void check_float32(const char* op, const char* arg, const mlsys::Tensor& t) {
  check_tensor(op, arg, t);
  if (t.dtype() != mlsys::DType::Float32)
    fail(op, cat("argument '", arg, "' must be float32 (the sum is defined for float32), got ",
                 t.describe()));
}

void check_array(const char* op, const char* arg, const void* p, int64_t n) {
  if (n < 0) fail(op, cat("argument 'n' must be >= 0, got ", n));
  if (p == nullptr && n > 0) fail(op, cat("argument '", arg, "' is null but n = ", n));
}

size_t tensor_bytes(const mlsys::Tensor& t) {
  return static_cast<size_t>(t.numel()) * mlsys::dtype_size(t.dtype());
}

}  // namespace

// ============================================================================================
// Communicator
// ============================================================================================

Communicator::Communicator(std::shared_ptr<Backend> backend) : backend_(std::move(backend)) {}

Backend& Communicator::checked(const char* op) const {
  if (!backend_)
    fail(op, "this Communicator is empty (default-constructed); get one from run_ranks, "
             "launch, mpi_world or split");
  return *backend_;
}

Backend& Communicator::backend() const { return checked("Communicator::backend"); }
int Communicator::rank() const { return checked("Communicator::rank").rank(); }
int Communicator::size() const { return checked("Communicator::size").size(); }
const char* Communicator::backend_name() const {
  return checked("Communicator::backend_name").backend_name();
}
std::string Communicator::name() const { return checked("Communicator::name").name(); }

// ---- point-to-point ----------------------------------------------------------------------

Request Communicator::isend_bytes(const void* data, size_t nbytes, int dst, int tag) {
  const char* op = "isend_bytes";
  Backend& b = checked(op);
  check_peer(b, op, "dst", dst);
  check_tag(op, tag);
  if (data == nullptr && nbytes > 0) fail(op, cat("argument 'data' is null but nbytes = ", nbytes));
  auto r = b.isend(data, nbytes, ElemType::Bytes, dst, tag, Channel::User, op);
  b.count_sent(nbytes, 1);
  return Request(std::move(r));
}

Request Communicator::irecv_bytes(void* data, size_t nbytes, int src, int tag) {
  const char* op = "irecv_bytes";
  Backend& b = checked(op);
  check_peer(b, op, "src", src);
  check_tag(op, tag);
  if (data == nullptr && nbytes > 0) fail(op, cat("argument 'data' is null but nbytes = ", nbytes));
  auto r = b.irecv(data, nbytes, ElemType::Bytes, src, tag, Channel::User, op);
  b.count_received(nbytes, 1);
  return Request(std::move(r));
}

namespace {
// The request keeps the tensor's storage alive until it is destroyed.
class TensorRequest : public RequestImpl {
 public:
  TensorRequest(std::unique_ptr<RequestImpl> inner, mlsys::Tensor t)
      : inner_(std::move(inner)), tensor_(std::move(t)) {}
  ~TensorRequest() override { inner_.reset(); }
  void wait() override { inner_->wait(); }
  bool test() override { return inner_->test(); }

 private:
  std::unique_ptr<RequestImpl> inner_;
  mlsys::Tensor tensor_;
};

Request tensor_isend(Backend& b, const char* op, const mlsys::Tensor& t, int dst, int tag) {
  check_tensor(op, "tensor", t);
  check_peer(b, op, "dst", dst);
  check_tag(op, tag);
  size_t nbytes = tensor_bytes(t);
  auto r = b.isend(t.raw_data(), nbytes, elem_type_of(t.dtype()), dst, tag, Channel::User, op);
  b.count_sent(nbytes, 1);
  return Request(std::make_unique<TensorRequest>(std::move(r), t));
}

Request tensor_irecv(Backend& b, const char* op, const mlsys::Tensor& t, int src, int tag) {
  check_tensor(op, "tensor", t);
  check_peer(b, op, "src", src);
  check_tag(op, tag);
  size_t nbytes = tensor_bytes(t);
  auto r = b.irecv(t.raw_data(), nbytes, elem_type_of(t.dtype()), src, tag, Channel::User, op);
  b.count_received(nbytes, 1);
  return Request(std::make_unique<TensorRequest>(std::move(r), t));
}
}  // namespace

Request Communicator::isend(const mlsys::Tensor& t, int dst, int tag) {
  return tensor_isend(checked("isend"), "isend", t, dst, tag);
}
Request Communicator::irecv(const mlsys::Tensor& t, int src, int tag) {
  return tensor_irecv(checked("irecv"), "irecv", t, src, tag);
}
void Communicator::send(const mlsys::Tensor& t, int dst, int tag) {
  tensor_isend(checked("send"), "send", t, dst, tag).wait();
}
void Communicator::recv(const mlsys::Tensor& t, int src, int tag) {
  tensor_irecv(checked("recv"), "recv", t, src, tag).wait();
}

void Communicator::sendrecv(const mlsys::Tensor& send_tensor, int dst,
                            const mlsys::Tensor& recv_tensor, int src, int tag) {
  Backend& b = checked("sendrecv");
  Request r = tensor_irecv(b, "sendrecv", recv_tensor, src, tag);
  Request s = tensor_isend(b, "sendrecv", send_tensor, dst, tag);
  r.wait();
  s.wait();
}

void Communicator::send_bytes(const void* data, size_t nbytes, int dst, int tag) {
  isend_bytes(data, nbytes, dst, tag).wait();
}
void Communicator::recv_bytes(void* data, size_t nbytes, int src, int tag) {
  irecv_bytes(data, nbytes, src, tag).wait();
}
void Communicator::sendrecv_bytes(const void* send_data, size_t send_nbytes, int dst,
                                  void* recv_data, size_t recv_nbytes, int src, int tag) {
  Request r = irecv_bytes(recv_data, recv_nbytes, src, tag);
  Request s = isend_bytes(send_data, send_nbytes, dst, tag);
  r.wait();
  s.wait();
}

// ---- groups ------------------------------------------------------------------------------

Communicator Communicator::split(int color, int key) const {
  Backend& b = checked("split");
  if (color < 0) fail("split", cat("argument 'color' must be >= 0, got ", color));
  if (key < 0) fail("split", cat("argument 'key' must be >= 0, got ", key));
  return Communicator(b.split(color, key));
}

void Communicator::barrier() const { checked("barrier").barrier(); }

void Communicator::check_same(int64_t value, const char* what, const char* op) const {
  checked("check_same").check_same(value, what, op);
}

// ---- native collectives ------------------------------------------------------------------

void Communicator::native_all_reduce(const mlsys::Tensor& t) const {
  const char* op = "native_all_reduce";
  Backend& b = checked(op);
  check_float32(op, "t", t);
  b.all_reduce_sum(t.raw_data(), t.numel(), ElemType::Float32);
}

void Communicator::native_reduce_scatter(const mlsys::Tensor& in, const mlsys::Tensor& out) const {
  const char* op = "native_reduce_scatter";
  Backend& b = checked(op);
  check_float32(op, "in", in);
  check_float32(op, "out", out);
  Chunk mine = chunk_of(in.numel(), b.size(), b.rank());
  if (out.numel() != mine.size)
    fail(op, cat("argument 'out' must have chunk_of(n=", in.numel(), ", p=", b.size(), ", rank=",
                 b.rank(), ").size = ", mine.size, " elements, got ", out.describe()));
  b.reduce_scatter_sum(in.raw_data(), out.raw_data(), in.numel(), ElemType::Float32);
}

void Communicator::native_all_gather(const mlsys::Tensor& in, const mlsys::Tensor& out) const {
  const char* op = "native_all_gather";
  Backend& b = checked(op);
  check_tensor(op, "in", in);
  check_tensor(op, "out", out);
  if (in.dtype() != out.dtype())
    fail(op, cat("arguments 'in' and 'out' must have the same dtype, got ", in.describe(),
                 " and ", out.describe()));
  Chunk mine = chunk_of(out.numel(), b.size(), b.rank());
  if (in.numel() != mine.size)
    fail(op, cat("argument 'in' must have chunk_of(n=", out.numel(), ", p=", b.size(), ", rank=",
                 b.rank(), ").size = ", mine.size, " elements (n = out.numel()), got ",
                 in.describe()));
  b.all_gather(in.raw_data(), out.raw_data(), out.numel(), elem_type_of(in.dtype()));
}

void Communicator::native_broadcast(const mlsys::Tensor& t, int root) const {
  const char* op = "native_broadcast";
  Backend& b = checked(op);
  check_tensor(op, "t", t);
  if (root < 0 || root >= b.size())
    fail(op, cat("argument 'root' must be a rank in 0..", b.size() - 1, ", got ", root));
  b.broadcast(t.raw_data(), tensor_bytes(t), root);
}

namespace {
template <typename T>
void all_reduce_array(Backend& b, T* data, int64_t n) {
  const char* op = "native_all_reduce";
  check_array(op, "data", data, n);
  b.all_reduce_sum(data, n, sizeof(T) == 4 ? ElemType::Float32 : ElemType::Float64);
}

template <typename T>
void reduce_scatter_array(Backend& b, const T* in, T* out, int64_t n) {
  const char* op = "native_reduce_scatter";
  check_array(op, "in", in, n);
  check_array(op, "out", out, chunk_of(std::max<int64_t>(n, 0), b.size(), b.rank()).size);
  b.reduce_scatter_sum(in, out, n, sizeof(T) == 4 ? ElemType::Float32 : ElemType::Float64);
}

template <typename T>
void all_gather_array(Backend& b, const T* in, T* out, int64_t n) {
  const char* op = "native_all_gather";
  check_array(op, "out", out, n);
  check_array(op, "in", in, chunk_of(n, b.size(), b.rank()).size);
  b.all_gather(in, out, n, sizeof(T) == 4 ? ElemType::Float32 : ElemType::Float64);
}
}  // namespace

void Communicator::native_all_reduce(float* data, int64_t n) const {
  all_reduce_array(checked("native_all_reduce"), data, n);
}
void Communicator::native_all_reduce(double* data, int64_t n) const {
  all_reduce_array(checked("native_all_reduce"), data, n);
}
void Communicator::native_reduce_scatter(const float* in, float* out, int64_t n) const {
  reduce_scatter_array(checked("native_reduce_scatter"), in, out, n);
}
void Communicator::native_reduce_scatter(const double* in, double* out, int64_t n) const {
  reduce_scatter_array(checked("native_reduce_scatter"), in, out, n);
}
void Communicator::native_all_gather(const float* in, float* out, int64_t n) const {
  all_gather_array(checked("native_all_gather"), in, out, n);
}
void Communicator::native_all_gather(const double* in, double* out, int64_t n) const {
  all_gather_array(checked("native_all_gather"), in, out, n);
}
void Communicator::native_broadcast(void* data, size_t nbytes, int root) const {
  const char* op = "native_broadcast";
  Backend& b = checked(op);
  if (data == nullptr && nbytes > 0) fail(op, cat("argument 'data' is null but nbytes = ", nbytes));
  if (root < 0 || root >= b.size())
    fail(op, cat("argument 'root' must be a rank in 0..", b.size() - 1, ", got ", root));
  b.broadcast(data, nbytes, root);
}

// ---- counters ----------------------------------------------------------------------------

CommStats Communicator::stats() const { return checked("stats").stats(); }
void Communicator::reset_stats() const { checked("reset_stats").reset_stats(); }

CommScope::CommScope(const Communicator& comm, std::string name) : backend_(&comm.backend()) {
  backend_->push_scope(name);
}
CommScope::~CommScope() { backend_->pop_scope(); }

}  // namespace pa3

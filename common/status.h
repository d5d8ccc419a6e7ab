// Errors as values across module edges (Abseil Status style; Debian 12's
// Abseil lacks the macros, so this is our own small version).
//
// A Status carries a code and a message that says what was wrong and where,
// e.g. "experiments/kill.toml:12:3: duration must be positive".
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace chaos {

// Mirrors the gRPC codes we use so the agent can map them 1:1.
enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kFailedPrecondition,
  kResourceExhausted,
  kDeadlineExceeded,
  kUnavailable,
  kUnimplemented,
  kCancelled,
  kAborted,
  kInternal,
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: spec.delay: must be positive"
  std::string to_string() const;

  // Returns a copy whose message is "<context>: <message>".
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status invalid_argument(std::string message);
Status not_found(std::string message);
Status already_exists(std::string message);
Status permission_denied(std::string message);
Status failed_precondition(std::string message);
Status resource_exhausted(std::string message);
Status deadline_exceeded(std::string message);
Status unavailable(std::string message);
Status unimplemented(std::string message);
Status cancelled(std::string message);
Status aborted(std::string message);
Status internal_error(std::string message);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(state_).ok() && "StatusOr built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  Status status() const { return ok() ? Status{} : std::get<Status>(state_); }

  T& value() & {
    assert(ok());
    return std::get<T>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace chaos

#define CHAOS_STATUS_CONCAT_INNER(a, b) a##b
#define CHAOS_STATUS_CONCAT(a, b) CHAOS_STATUS_CONCAT_INNER(a, b)

#define CHAOS_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    ::chaos::Status chaos_status_tmp_ = (expr);     \
    if (!chaos_status_tmp_.ok()) return chaos_status_tmp_; \
  } while (false)

#define CHAOS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define CHAOS_ASSIGN_OR_RETURN(lhs, expr) \
  CHAOS_ASSIGN_OR_RETURN_IMPL(CHAOS_STATUS_CONCAT(chaos_statusor_, __LINE__), lhs, expr)

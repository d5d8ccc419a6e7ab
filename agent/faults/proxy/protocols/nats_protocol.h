// Splits one direction of a NATS client-protocol connection into whole
// protocol messages, incrementally, as bytes arrive in any chunking. It
// keeps the exact bytes of each message so a filter forwards what it does
// not change byte for byte. Anything it cannot frame (garbage, TLS, a line
// or payload over its bound) switches it to pass-through for the rest of
// the connection: a fault must never corrupt a stream it does not
// understand.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chaos::agent::proxy {

// nats-server's default max_control_line and max_payload; the ceilings
// bound what a fault spec may configure.
inline constexpr std::size_t kNatsDefaultMaxControlLine = 4 * 1024;
inline constexpr std::size_t kNatsMaxControlLineCeiling = 64 * 1024;
inline constexpr std::size_t kNatsDefaultMaxPayload = 1024 * 1024;
inline constexpr std::size_t kNatsMaxPayloadCeiling = 64 * 1024 * 1024;
// A splitter's buffer keeps at most this much spare capacity once what it
// held is handed out.
inline constexpr std::size_t kNatsKeptBufferCapacity = 64 * 1024;

struct NatsLimits {
  std::size_t max_control_line = kNatsDefaultMaxControlLine;  // without the line end
  std::size_t max_payload = kNatsDefaultMaxPayload;
};

// Names the field ("max_control_line") in the error.
Status validate_nats_limits(const NatsLimits& limits);

enum class NatsOp { kInfo, kConnect, kPub, kHpub, kSub, kUnsub, kMsg, kHmsg, kPing, kPong, kOk, kErr };

const char* nats_op_name(NatsOp op);

struct NatsMessage {
  NatsOp op = NatsOp::kPing;
  std::string bytes;  // the whole message as on the wire, line end(s) included
  // PUB, HPUB, MSG, HMSG, SUB; empty otherwise.
  std::string subject;
  // PUB, HPUB, MSG, HMSG: the reply subject, empty if none.
  std::string reply;
  // INFO, CONNECT: the JSON text; -ERR: the text after "-ERR ".
  std::string argument;
  // INFO only: the server requires TLS (the client upgrades next).
  bool tls_required = false;
};

class NatsSplitter {
 public:
  explicit NatsSplitter(NatsLimits limits = {});

  struct Output {
    std::vector<NatsMessage> messages;  // whole messages, in order
    // Set once pass-through starts: every byte from the first one the
    // splitter could not frame, unchanged (after `messages`).
    std::string pass_through;
  };

  // Appends what it completes to `out`.
  void feed(std::string_view input, Output& out);
  // The end of the stream: an incomplete message is handed out as
  // pass-through bytes (the peer gets what was sent, nothing is lost).
  void finish(Output& out);
  // Stops parsing: what is buffered and every later byte passes through.
  void pass_through(std::string reason, Output& out);

  bool passing_through() const { return passing_through_; }
  // Why pass-through started ("control line longer than 4096 bytes").
  const std::string& pass_through_reason() const { return reason_; }
  // What is held back waiting for the rest of a message; at most
  // max_control_line + max_payload + 4 bytes.
  std::size_t buffered() const { return buffer_.size() - consumed_; }
  // The memory behind it: its spare capacity is given back past
  // kNatsKeptBufferCapacity once a message is handed out.
  std::size_t buffer_capacity() const { return buffer_.capacity(); }

 private:
  enum class Step { kMessage, kNeedMore, kFailed };
  Step next(NatsMessage& message);
  void compact();

  NatsLimits limits_;
  std::string buffer_;
  std::size_t consumed_ = 0;   // bytes of buffer_ already handed out
  std::size_t scanned_ = 0;    // no '\n' in buffer_[consumed_, consumed_ + scanned_)
  bool passing_through_ = false;
  std::string reason_;
  std::string failure_;  // set by next() when it returns kFailed
};

}  // namespace chaos::agent::proxy

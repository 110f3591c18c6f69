#pragma once

// The messages generated code builds and reads: a received message (Reply),
// an outgoing one (OutgoingMessage, on the thread's scratch segment) and put()
// for a field of an outgoing message. Not for direct use by applications.

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/exception.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "procxy/detail/marshal.h"
#include "procxy/export.h"

namespace procxy::detail {

// The words of one received Cap'n Proto message.
using Words = kj::Array<capnp::word>;

// A received message, ready to read.
class PROCXY_EXPORT Reply {
 public:
  explicit Reply(Words words);
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  template <class S>
  typename S::Reader root() {
    return reader_.getRoot<S>();
  }

  // Runs `decode`, which reads this message; a message that proves malformed
  // only as it is read (a list longer than the message could hold) raises
  // ProtocolError naming `what`.
  template <class F>
  auto read(const char* what, F&& decode) -> decltype(decode()) {
    try {
      return decode();
    } catch (const kj::Exception& e) {
      malformed_ = true;
      malformed(what, e.getDescription().cStr());
    }
  }
  // True once read() found the message malformed.
  bool malformed() const { return malformed_; }

 private:
  [[noreturn]] static void malformed(const char* what, const char* why);

  bool malformed_ = false;
  Words words_;
  capnp::FlatArrayMessageReader reader_;
};

// Lends the building thread's scratch segment to an OutgoingMessage, or,
// while another message of the thread holds it, a segment of its own.
class PROCXY_EXPORT ScratchLease {
 protected:
  ScratchLease();
  ~ScratchLease();
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;

  kj::ArrayPtr<capnp::word> segment_;  // zeroed
  bool own_ = false;                   // segment_ is not the thread's scratch
  std::size_t used_words_ = 0;         // the message's size, set before the builder is destroyed
};

// The builder of one outgoing message: a call's parameters, its results, an
// event. Its first segment is the building thread's scratch, reused message
// after message and grown to the largest message the thread sent (up to
// kMaxScratchWords), so a call allocates no memory, and above all touches no
// fresh memory: a page fault per 4 KiB costs more than copying it. A message
// built while another is being built on the same thread (an event emitted
// during a call) gets a first segment of its own.
class PROCXY_EXPORT OutgoingMessage : private ScratchLease, public capnp::MallocMessageBuilder {
 public:
  static constexpr std::size_t kMaxScratchWords = std::size_t{16} << 17;  // 16 MiB

  OutgoingMessage();
  ~OutgoingMessage() noexcept(false) override;

  // Keeps `value` alive as long as the message, so that the message can refer
  // to it instead of holding a copy.
  template <class T>
  const T& keep(T&& value) {
    auto kept = std::make_shared<const T>(std::move(value));
    const T& kept_value = *kept;
    kept_.push_back(std::move(kept));
    return kept_value;
  }

 private:
  std::vector<std::shared_ptr<const void>> kept_;
};

// Byte vectors of this size and more, of a whole number of words, are not
// copied into an OutgoingMessage: it refers to them. That saves a copy and
// the zeroing of the scratch it would have filled.
inline constexpr std::size_t kBorrowMinBytes = 4096;

template <class T>
bool borrowable(const T& bytes) {
  return bytes.size() >= kBorrowMinBytes && bytes.size() % sizeof(capnp::word) == 0 &&
         reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(capnp::word) == 0;
}

// put(message, builder, &Builder::setX, value) or (..., &Builder::adoptX, value)
// for a field of a call's parameters, a call's results or an event's
// parameters. A large byte vector is referred to, not copied: an lvalue is an
// argument of the call or event being sent, which outlives the message; an
// rvalue (a result) is kept alive by the message.
template <class B, class Arg, class T>
void put(OutgoingMessage& message, B& builder, void (B::*member)(Arg), T&& value) {
  if constexpr (std::is_same_v<Arg, capnp::Orphan<capnp::Data>&&>) {
    if (borrowable(value)) {
      check_wire_size(value.size(), "byte vector");
      const auto& bytes = [&]() -> const std::remove_cvref_t<T>& {
        if constexpr (std::is_lvalue_reference_v<T>) {
          return value;
        } else {
          return message.keep(std::move(value));
        }
      }();
      (builder.*member)(message.getOrphanage().referenceExternalData(
          capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(bytes.data()), bytes.size())));
      return;
    }
  }
  put(builder, member, value);
}

// The same for a constructor's arguments, always copied: the message outlives
// them.
template <class B, class Arg, class T>
void put(capnp::MessageBuilder&, B& builder, void (B::*member)(Arg), const T& value) {
  put(builder, member, value);
}

}  // namespace procxy::detail

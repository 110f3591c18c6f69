#include <algorithm>
#include <cstdlib>
#include <new>

#include "procxy/detail/generated_support.h"

namespace procxy::detail {
namespace {

constexpr std::size_t kFirstWords = capnp::SUGGESTED_FIRST_SEGMENT_WORDS;

kj::ArrayPtr<capnp::word> zeroed_words(std::size_t words) {
  void* memory = std::calloc(words, sizeof(capnp::word));
  if (!memory) throw std::bad_alloc();
  return {static_cast<capnp::word*>(memory), words};
}

// This thread's scratch segment: zeroed whenever it is not lent out.
struct Scratch {
  kj::ArrayPtr<capnp::word> segment = zeroed_words(kFirstWords);
  bool lent = false;
  ~Scratch() { std::free(segment.begin()); }
};
thread_local Scratch t_scratch;

}  // namespace

ScratchLease::ScratchLease() {
  if (t_scratch.lent) {
    segment_ = zeroed_words(kFirstWords);
    own_ = true;
  } else {
    segment_ = t_scratch.segment;
    t_scratch.lent = true;
  }
}

ScratchLease::~ScratchLease() {
  if (own_) {
    std::free(segment_.begin());
    return;
  }
  // The builder has zeroed what it used. A message that did not fit makes the
  // scratch grow to its size, so that the next such message fits.
  if (used_words_ > t_scratch.segment.size() && t_scratch.segment.size() < OutgoingMessage::kMaxScratchWords) {
    std::size_t words = std::min(used_words_, OutgoingMessage::kMaxScratchWords);
    if (void* grown = std::calloc(words, sizeof(capnp::word))) {  // else the old one serves on
      std::free(t_scratch.segment.begin());
      t_scratch.segment = {static_cast<capnp::word*>(grown), words};
    }
  }
  t_scratch.lent = false;
}

OutgoingMessage::OutgoingMessage() : MallocMessageBuilder(segment_) {}

OutgoingMessage::~OutgoingMessage() noexcept(false) {
  for (const auto& segment : getSegmentsForOutput()) used_words_ += segment.size();
}

}  // namespace procxy::detail

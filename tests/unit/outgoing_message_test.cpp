// OutgoingMessage: a thread's messages share one first segment, which is
// zero again for each message, grows to the thread's largest message, and is
// never shared by two messages alive at once.

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "procxy/detail/generated_support.h"
#include "wire/protocol.capnp.h"

using procxy::detail::OutgoingMessage;
using procxy::wire::Select;

namespace {

const capnp::word* first_segment(OutgoingMessage& message) { return message.getSegmentsForOutput()[0].begin(); }

}  // namespace

TEST_CASE("a thread's messages reuse one first segment, zeroed between them") {
  const capnp::word* first;
  {
    OutgoingMessage message;
    auto select = message.initRoot<Select>();
    select.setClassName(std::string(200, 'x'));
    select.setInterfaceHash(7);
    first = first_segment(message);
  }
  OutgoingMessage message;
  auto select = message.initRoot<Select>();  // nothing set: every field reads its default
  CHECK(first_segment(message) == first);
  CHECK(select.asReader().getInterfaceHash() == 0);
  CHECK(select.asReader().getClassName().size() == 0);
  CHECK(select.asReader().getConcurrency() == 1);
}

TEST_CASE("the first segment grows to the largest message of the thread") {
  const std::string large(100'000, 'y');
  {
    OutgoingMessage message;
    message.initRoot<Select>().setClassName(large);
    CHECK(message.getSegmentsForOutput().size() > 1);  // did not fit the first segment yet
  }
  OutgoingMessage message;
  message.initRoot<Select>().setClassName(large);
  CHECK(message.getSegmentsForOutput().size() == 1);
  CHECK(message.getRoot<Select>().asReader().getClassName() == large);
}

TEST_CASE("a message built while another is alive gets memory of its own") {
  OutgoingMessage outer;
  outer.initRoot<Select>().setInterfaceHash(1);
  {
    OutgoingMessage inner;
    inner.initRoot<Select>().setInterfaceHash(2);
    CHECK(first_segment(inner) != first_segment(outer));
    CHECK(inner.getRoot<Select>().asReader().getInterfaceHash() == 2);
  }
  CHECK(outer.getRoot<Select>().asReader().getInterfaceHash() == 1);
}

TEST_CASE("threads have first segments of their own") {
  OutgoingMessage here;
  here.initRoot<Select>();
  const capnp::word* there = nullptr;
  std::thread([&] {
    OutgoingMessage message;
    message.initRoot<Select>();
    there = first_segment(message);
  }).join();
  CHECK(there != first_segment(here));
}

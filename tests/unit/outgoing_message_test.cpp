// OutgoingMessage: a thread's messages share one first segment, which is
// zero again for each message, grows to the thread's largest message, and is
// never shared by two messages alive at once. put() into one refers to large
// byte vectors instead of copying them, keeping rvalues alive.

#include <catch2/catch.hpp>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "borrow_test.capnp.h"
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

namespace {

using procxy::test::Blob;

// Whether a segment of `message` is the memory of `bytes`: referred to, not copied.
bool refers_to(OutgoingMessage& message, const std::vector<std::byte>& bytes) {
  for (auto segment : message.getSegmentsForOutput()) {
    if (reinterpret_cast<const void*>(segment.begin()) == bytes.data()) return true;
  }
  return false;
}

std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(i * 7 + 1);
  return bytes;
}

bool holds(OutgoingMessage& message, const std::vector<std::byte>& expected) {
  auto data = message.getRoot<Blob>().asReader().getData();
  return data.size() == expected.size() &&
         std::equal(data.begin(), data.end(), reinterpret_cast<const capnp::byte*>(expected.data()));
}

}  // namespace

TEST_CASE("put() refers to a large byte vector argument instead of copying it") {
  const auto bytes = pattern(procxy::detail::kBorrowMinBytes * 4);
  OutgoingMessage message;
  auto blob = message.initRoot<Blob>();
  put(message, blob, &Blob::Builder::adoptData, bytes);
  put(message, blob, &Blob::Builder::setCount, 3u);
  CHECK(refers_to(message, bytes));
  CHECK(holds(message, bytes));
  CHECK(message.getRoot<Blob>().asReader().getCount() == 3);
}

TEST_CASE("put() keeps a large byte vector result alive in the message") {
  auto result = pattern(procxy::detail::kBorrowMinBytes * 4);
  const auto expected = result;
  const void* memory = result.data();
  OutgoingMessage message;
  auto blob = message.initRoot<Blob>();
  put(message, blob, &Blob::Builder::adoptData, std::move(result));
  bool moved_in = false;
  for (auto segment : message.getSegmentsForOutput()) moved_in = moved_in || segment.begin() == memory;
  CHECK(moved_in);
  CHECK(holds(message, expected));
}

TEST_CASE("put() copies small byte vectors and those of a partial word") {
  for (std::size_t size : {std::size_t{0}, std::size_t{100}, procxy::detail::kBorrowMinBytes * 4 + 3}) {
    DYNAMIC_SECTION("size " << size) {
      const auto bytes = pattern(size);
      OutgoingMessage message;
      auto blob = message.initRoot<Blob>();
      put(message, blob, &Blob::Builder::adoptData, bytes);
      CHECK_FALSE(refers_to(message, bytes));
      CHECK(holds(message, bytes));
    }
  }
}

TEST_CASE("put() into a plain message, a constructor's, always copies") {
  const auto bytes = pattern(procxy::detail::kBorrowMinBytes * 4);
  capnp::MallocMessageBuilder message;
  auto blob = message.initRoot<Blob>();
  procxy::detail::put(static_cast<capnp::MessageBuilder&>(message), blob, &Blob::Builder::adoptData, bytes);
  for (auto segment : message.getSegmentsForOutput()) {
    CHECK(reinterpret_cast<const void*>(segment.begin()) != bytes.data());
  }
  auto data = message.getRoot<Blob>().asReader().getData();
  CHECK(std::equal(data.begin(), data.end(), reinterpret_cast<const capnp::byte*>(bytes.data())));
}

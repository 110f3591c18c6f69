// Every type of SPEC §1 through a real child: edge values, and seeded random
// values for containers (the seed is printed on failure by Catch's INFO).

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "types.procxy.h"

using namespace e2e::types;
using std::numeric_limits;

namespace {

procxy::Proxy<Types>& types() {
  static procxy::Proxy<Types> proxy = procxy::spawn<Types>();
  return proxy;
}

template <class T>
void check_extremes(T (procxy::Methods<Types>::*method)(T)) {
  for (T value : {numeric_limits<T>::min(), numeric_limits<T>::max(), T(0), T(1)}) {
    CHECK((types().operator->()->*method)(value) == value);
  }
}

std::string random_text(std::mt19937& rng) {
  std::uniform_int_distribution<int> length(0, 40), byte(0, 255);
  std::string text(static_cast<size_t>(length(rng)), '\0');
  for (char& c : text) c = static_cast<char>(byte(rng));  // any bytes, NULs included
  return text;
}

}  // namespace

TEST_CASE("scalars keep their exact values at the extremes", "[types]") {
  check_extremes(&procxy::Methods<Types>::character);
  check_extremes(&procxy::Methods<Types>::signed_char);
  check_extremes(&procxy::Methods<Types>::unsigned_char);
  check_extremes(&procxy::Methods<Types>::i8);
  check_extremes(&procxy::Methods<Types>::u8);
  check_extremes(&procxy::Methods<Types>::i16);
  check_extremes(&procxy::Methods<Types>::u16);
  check_extremes(&procxy::Methods<Types>::i32);
  check_extremes(&procxy::Methods<Types>::u32);
  check_extremes(&procxy::Methods<Types>::i64);
  check_extremes(&procxy::Methods<Types>::u64);
  check_extremes(&procxy::Methods<Types>::short_int);
  check_extremes(&procxy::Methods<Types>::unsigned_short);
  check_extremes(&procxy::Methods<Types>::long_int);
  check_extremes(&procxy::Methods<Types>::unsigned_long);
  check_extremes(&procxy::Methods<Types>::long_long);
  check_extremes(&procxy::Methods<Types>::unsigned_long_long);
  CHECK(types()->boolean(true));
  CHECK_FALSE(types()->boolean(false));
  for (double d : {0.0, -0.0, 1e-308, 4.9e-324, numeric_limits<double>::max(), numeric_limits<double>::infinity(),
                   -numeric_limits<double>::infinity()}) {
    double back = types()->f64(d);
    CHECK(back == d);
    CHECK(std::signbit(back) == std::signbit(d));
  }
  CHECK(std::isnan(types()->f64(numeric_limits<double>::quiet_NaN())));
  CHECK(std::isnan(types()->f32(numeric_limits<float>::quiet_NaN())));
  CHECK(std::signbit(types()->f32(-0.0f)));
  CHECK(types()->f32(numeric_limits<float>::denorm_min()) == numeric_limits<float>::denorm_min());
  CHECK(types()->shade(Shade::dark) == Shade::dark);
  CHECK(types()->legacy(kLegacyLow) == kLegacyLow);
  CHECK(types()->legacy(kLegacyHigh) == kLegacyHigh);
  types()->nothing();
}

TEST_CASE("strings, views and paths keep every byte", "[types]") {
  for (const std::string& s :
       {std::string(), std::string("a\0b\0", 4), std::string("naïve ✓ 日本語"), std::string(100'000, 'z')}) {
    CHECK(types()->text(s) == s);
    CHECK(types()->view(std::string_view(s)) == s);
  }
  CHECK(types()->path("/tmp/some dir/file.txt") == std::filesystem::path("/tmp/some dir/file.txt"));
  CHECK(types()->path("relative/ü.txt") == std::filesystem::path("relative/ü.txt"));
  CHECK(types()->path({}).empty());
}

TEST_CASE("containers round-trip, empty and random", "[types]") {
  CHECK(types()->ints({}).empty());
  CHECK(types()->strings({}).empty());
  CHECK(types()->ordered_map({}).empty());
  CHECK(types()->hash_set({}).empty());
  CHECK_FALSE(types()->maybe(std::nullopt).has_value());
  CHECK(types()->maybe(std::string()) == std::optional<std::string>(""));
  CHECK(types()->array({1.5, -0.0, 3, 4}) == std::array<double, 4>{1.5, -0.0, 3, 4});

  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> size(0, 30);
  std::uniform_int_distribution<std::int64_t> any(numeric_limits<std::int64_t>::min(),
                                                  numeric_limits<std::int64_t>::max());
  for (int round = 0; round < 50; ++round) {
    std::vector<std::int32_t> ints(static_cast<size_t>(size(rng)));
    for (auto& i : ints) i = static_cast<std::int32_t>(any(rng));
    CHECK(types()->ints(ints) == ints);

    std::vector<std::string> strings(static_cast<size_t>(size(rng)));
    for (auto& s : strings) s = random_text(rng);
    CHECK(types()->strings(strings) == strings);

    std::vector<bool> bools(static_cast<size_t>(size(rng)));
    for (size_t i = 0; i < bools.size(); ++i) bools[i] = any(rng) % 2 == 0;
    CHECK(types()->bools(bools) == bools);

    std::vector<std::vector<double>> matrix(static_cast<size_t>(size(rng) % 5));
    for (auto& row : matrix) row.assign(static_cast<size_t>(size(rng)), static_cast<double>(any(rng)) / 7);
    CHECK(types()->matrix(matrix) == matrix);

    std::map<std::string, std::int64_t> ordered;
    std::unordered_map<std::int32_t, std::string> hashed;
    std::set<std::string> ordered_set;
    std::unordered_set<std::int64_t> hash_set;
    for (int i = size(rng); i > 0; --i) {
      ordered[random_text(rng)] = any(rng);
      hashed[static_cast<std::int32_t>(any(rng))] = random_text(rng);
      ordered_set.insert(random_text(rng));
      hash_set.insert(any(rng));
    }
    CHECK(types()->ordered_map(ordered) == ordered);
    CHECK(types()->hash_map(hashed) == hashed);
    CHECK(types()->ordered_set(ordered_set) == ordered_set);
    CHECK(types()->hash_set(hash_set) == hash_set);

    std::vector<std::uint8_t> octets(static_cast<size_t>(size(rng) * 10));
    for (auto& o : octets) o = static_cast<std::uint8_t>(any(rng));
    CHECK(types()->octets(octets) == octets);
  }
}

TEST_CASE("optional, variant, pair, tuple and nested aggregates", "[types]") {
  CHECK(types()->maybe("x") == std::optional<std::string>("x"));
  auto inner = types()->maybe_inner(Inner{"in", 7});
  REQUIRE(inner.has_value());
  CHECK(inner->label == "in");
  CHECK(inner->weight == 7);
  CHECK_FALSE(types()->maybe_inner(std::nullopt).has_value());

  using Variant = std::variant<std::int32_t, std::string, Inner>;
  CHECK(std::get<0>(types()->variant(Variant(-3))) == -3);
  CHECK(std::get<1>(types()->variant(Variant(std::string("text")))) == "text");
  Variant third = types()->variant(Variant(Inner{"third", std::nullopt}));
  REQUIRE(third.index() == 2);
  CHECK(std::get<2>(third).label == "third");
  CHECK_FALSE(std::get<2>(third).weight.has_value());

  CHECK(types()->pair({"p", 2.5}) == std::pair<std::string, double>("p", 2.5));
  std::tuple<std::int32_t, std::string, std::vector<bool>> tuple{
      numeric_limits<std::int32_t>::min(), "t", {true, false}};
  CHECK(types()->tuple(tuple) == tuple);

  Record record{{"inner", 1}, {{"a", {}}, {"b", 2}}, {{"k", {"v", 3}}}, {-1, 0, 1}, std::string("either")};
  Record back = types()->record(record);
  CHECK(back.inner.label == "inner");
  CHECK(back.inner.weight == 1);
  REQUIRE(back.many.size() == 2);
  CHECK_FALSE(back.many[0].weight.has_value());
  CHECK(back.many[1].weight == 2);
  REQUIRE(back.by_name.count("k") == 1);
  CHECK(back.by_name.at("k").label == "v");
  CHECK(back.triple == std::array<std::int16_t, 3>{-1, 0, 1});
  CHECK(std::get<std::string>(back.either) == "either");

  Deep deep{{"x", {{1, "one"}, {2, "two"}}}, {"", {}}};
  CHECK(types()->deep(deep) == deep);
}

TEST_CASE("bytes, durations and time points", "[types]") {
  std::vector<std::byte> bytes{std::byte{0}, std::byte{0xff}, std::byte{0x10}};
  CHECK(types()->bytes(bytes) == bytes);
  CHECK(types()->bytes({}).empty());
  CHECK(types()->millis(std::chrono::milliseconds(-1234)) == std::chrono::milliseconds(-1234));
  CHECK(types()->nanos(std::chrono::nanoseconds::max()) == std::chrono::nanoseconds::max());
  CHECK(types()->seconds(std::chrono::duration<double>(0.25)) == std::chrono::duration<double>(0.25));
  auto now = std::chrono::system_clock::now();
  CHECK(types()->when(now) == now);
  CHECK(types()->when({}) == std::chrono::system_clock::time_point{});
}

TEST_CASE("a 64 MiB byte vector crosses both ways", "[types]") {
  std::vector<std::uint8_t> big(64u << 20, 0x5a);
  big.back() = 0x01;
  CHECK(types()->octet_count(big) == big.size());
  std::vector<std::uint8_t> made = types()->make_octets(64u << 20);
  CHECK(made.size() == (64u << 20));
  CHECK(made.front() == 0xab);
  CHECK(made.back() == 0xab);
}

// Both sides reuse message and payload memory from call to call (a
// thread's scratch segment, the payload pool): calls of changing sizes, each
// with its own content, must never see a byte of an earlier call.
TEST_CASE("byte vectors of changing sizes keep their content from call to call", "[types]") {
  std::mt19937 rng(Catch::rngSeed());
  INFO("seed " << Catch::rngSeed());
  for (std::size_t size : {std::size_t{3} << 20, std::size_t{1} << 20, std::size_t{100}, std::size_t{0},
                           std::size_t{2} << 20, std::size_t{1} << 20, std::size_t{5}}) {
    std::vector<std::byte> bytes(size);
    for (std::byte& b : bytes) b = static_cast<std::byte>(rng());
    CHECK(types()->bytes(bytes) == bytes);
    std::vector<std::future<std::vector<std::byte>>> calls;
    for (int i = 0; i < 3; ++i) calls.push_back(types().async()->bytes(bytes));
    for (auto& call : calls) CHECK(call.get() == bytes);
  }
}

TEST_CASE("data beyond Cap'n Proto's or procxy's limits fails with an Error naming the limit", "[types][large]") {
  constexpr std::size_t kOverBlobLimit = std::size_t{1} << 29;
  // Building and encoding a gigabyte takes a while under sanitizers; the bound
  // only catches a hang.
  procxy::CallOptions patient;
  patient.timeout = std::chrono::minutes(10);
  auto slow = types().with(patient);
  try {
    slow->octet_count(std::vector<std::uint8_t>(kOverBlobLimit));
    FAIL("sent");
  } catch (const procxy::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("procxy: parent") && Catch::Contains("Cap'n Proto's limit"));
  }
  try {
    slow->make_octets(kOverBlobLimit);
    FAIL("received");
  } catch (const procxy::RemoteException& e) {
    CHECK(e.type_name() == "procxy::Error");
    CHECK_THAT(e.what(), Catch::Contains("procxy: child") && Catch::Contains("Cap'n Proto's limit"));
  }
  // Three blobs under Cap'n Proto's limit that add up to more than a frame.
  constexpr std::uint32_t kChunk = 400u << 20;
  try {
    slow->chunk_bytes(std::vector<std::vector<std::uint8_t>>(3, std::vector<std::uint8_t>(kChunk)));
    FAIL("sent");
  } catch (const procxy::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("procxy: parent") && Catch::Contains("frame limit"));
  }
  try {
    slow->make_chunks(3, kChunk);
    FAIL("received");
  } catch (const procxy::RemoteException& e) {
    CHECK_THAT(e.what(), Catch::Contains("procxy: child") && Catch::Contains("frame limit"));
  }
  CHECK(types()->i32(5) == 5);  // the connection is still good
}

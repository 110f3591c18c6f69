// The constructs of real headers (issue 17) through a real child: each value
// comes back exactly.

#include <atomic>
#include <catch2/catch.hpp>

#include "constructs.procxy.h"

using namespace e2e::constructs;

TEST_CASE("containers keep their comparator, hash and allocator", "[constructs]") {
  auto p = procxy::spawn<Containers>();
  std::set<int, std::greater<int>> descending{3, 1, 2};
  auto back = p->descending(descending);
  CHECK(back == descending);
  CHECK(*back.begin() == 3);
  std::map<std::string, int, std::less<>> transparent{{"a", 1}, {"b", 2}};
  auto map = p->transparent(transparent);
  CHECK(map == transparent);
  CHECK(map.find(std::string_view("b"))->second == 2);  // the transparent comparator is still there
  std::unordered_map<int, std::string, IdHash, IdEqual> hashed{{1, "one"}, {-7, "minus seven"}};
  CHECK(p->hashed(hashed) == hashed);
  std::unordered_set<int, IdHash> set{5, 6, 7};
  CHECK(p->hashed_set(set) == set);
  std::pmr::string text("pmr \0 text", 10);
  CHECK(p->pmr_text(text) == text);
  std::pmr::vector<std::int32_t> ints{INT32_MIN, 0, INT32_MAX};
  CHECK(p->pmr_ints(ints) == ints);
}

TEST_CASE("typedef'd unnamed types, unnamed member types and const members", "[constructs]") {
  auto p = procxy::spawn<Containers>();
  point_t point = p->point({1, -2});
  CHECK(point.x == -2);
  CHECK(point.y == 1);
  CHECK(p->colour(kBlue) == kBlue);
  Shape shape{{640, 480}, Shape::kSquare, 41, "box"};
  Shape back = p->shape(shape);
  CHECK(back.size.width == 480);
  CHECK(back.size.height == 640);
  CHECK(back.kind == Shape::kSquare);
  CHECK(back.id == 42);
  CHECK(back.label == "box!");
  std::vector<Shape> shapes = p->shapes({shape, Shape{{1, 2}, Shape::kRound, 7, ""}});
  REQUIRE(shapes.size() == 2);
  CHECK(shapes[1].id == 7);
  CHECK(shapes[1].size.height == 2);
}

TEST_CASE("std::monostate and aliases", "[constructs]") {
  auto p = procxy::spawn<Containers>();
  using Maybe = std::variant<std::monostate, int, std::string>;
  CHECK(p->maybe(Maybe{}).index() == 0);
  CHECK(p->maybe(Maybe{-3}) == Maybe{-3});
  CHECK(p->maybe(Maybe{"text"}) == Maybe{"text"});
  CHECK(p->count(UINT64_MAX - 1, 1) == UINT64_MAX);
}

TEST_CASE("inherited methods and constructors, special members, qualifiers", "[constructs]") {
  auto tally = procxy::spawn<Tally>(10);
  CHECK(tally->value() == 10);
  CHECK(tally->add(5) == 15);     // Counter::add(int), through using
  CHECK(tally->add(2, 3) == 21);  // Counter::add(int, int)
  CHECK(tally->add(0.5) == 26);   // Tally::add(double)
  CHECK(tally->operator_count() == 3);
  CHECK(tally->lvalue_only() == -26);
  CHECK(tally->checked() == 52);
  // A call of a [[deprecated]] method through the proxy warns as a local call would.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  CHECK(tally->legacy_value() == 26);
#pragma GCC diagnostic pop
  // A noexcept event.
  std::atomic<int> ticked{0};
  auto subscription = tally.on(&Tally::ticked, [&](int value) { ticked = value; });
  tally->tick();  // events emitted before a result arrive before it
  CHECK(ticked == 26);
  auto scaled = procxy::spawn<Tally>(std::string("7"), 3);
  CHECK(scaled->value() == 21);
  auto unscaled = procxy::spawn<Tally>(std::string("7"));
  CHECK(unscaled->value() == 7);
}

TEST_CASE("parameters named like the generated code's own names", "[constructs]") {
  auto names = procxy::spawn<Names>(7000000);
  CHECK(names->locals(1, 2, 3, 4, 5, 6) == 7123456);
  CHECK(names->more(1, 2, 3, 4, 5, 6) == 123456);
  CHECK(names->Grüße("welt") == "grüße, welt");
  CHECK(procxy::spawn<Café>()->brew("arabica") == "arabica ☕");
}

TEST_CASE("classes nested in a class or in extern \"C++\"", "[constructs]") {
  CHECK(procxy::spawn<Outer::Nested>()->twice(21) == 42);
  CHECK(procxy::spawn<InExtern>()->thrice(-3) == -9);
}

#pragma once

// The C++ that real headers contain (issue 17), each construct in a class
// that round-trips it through a real child. It is also the golden case
// tests/generator/cases/constructs and must compile warning-free under g++
// and clang with -Wall -Wextra -Werror. docs/types.md lists the treatment of
// each.

#include <procxy/annotate.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory_resource>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace e2e::constructs {

// C headers' idiom: unnamed types named by a typedef.
typedef struct {
  int x;
  int y;
} point_t;
typedef enum { kRed, kGreen, kBlue } colour_t;

// Members of unnamed types, and a const member.
struct Shape {
  struct {
    int width;
    int height;
  } size;
  enum { kRound, kSquare } kind;
  const int id = 0;
  std::string label;
};

struct IdHash {
  std::size_t operator()(int key) const { return std::hash<int>()(key) ^ 0x5bd1e995U; }
};
struct IdEqual {
  bool operator()(int a, int b) const { return a == b; }
};

using Count = std::uint64_t;

// Containers with their own comparator, hash, equality or allocator.
class PROCXY_REMOTE Containers {
 public:
  std::set<int, std::greater<int>> descending(const std::set<int, std::greater<int>>& value);
  std::map<std::string, int, std::less<>> transparent(const std::map<std::string, int, std::less<>>& value);
  std::unordered_map<int, std::string, IdHash, IdEqual> hashed(
      const std::unordered_map<int, std::string, IdHash, IdEqual>& value);
  std::unordered_set<int, IdHash> hashed_set(const std::unordered_set<int, IdHash>& value);
  std::pmr::string pmr_text(const std::pmr::string& value);
  std::pmr::vector<std::int32_t> pmr_ints(const std::pmr::vector<std::int32_t>& value);
  point_t point(point_t value);
  colour_t colour(colour_t value);
  Shape shape(const Shape& value);
  std::vector<Shape> shapes(const std::vector<Shape>& value);
  std::variant<std::monostate, int, std::string> maybe(const std::variant<std::monostate, int, std::string>& value);
  Count count(std::uint64_t raw, Count other);
};

// Not remote: its public methods are the derived class's.
class Counter {
 public:
  explicit Counter(int start);
  Counter(const std::string& digits, int scale = 1);

  /// The current value.
  int value() const;
  int add(int step);
  int add(int step, int times);

 protected:
  int total_;
};

// The rule of five, operators that are special members, inherited methods
// and constructors.
class PROCXY_REMOTE Tally : public Counter {
 public:
  using Counter::add;
  using Counter::Counter;
  Tally(const Tally&) = default;
  Tally(Tally&&) = default;
  Tally& operator=(const Tally&) = default;
  Tally& operator=(Tally&&) = delete;
  ~Tally() = default;

  int add(double step);  // hides Counter::add(int) but for the using above
  int operator_count() const;
  int lvalue_only() &;
  [[deprecated("use value()")]] int legacy_value() const;
  [[nodiscard]] int checked() const;
  void tick();  // emits ticked(value())
  PROCXY_EVENT void ticked(int value) noexcept;
};

// Names the generated code uses for itself, as the user's.
class PROCXY_REMOTE Names {
 public:
  explicit Names(int construction_);
  int locals(int message_, int params_, int put, int construction_, int wire, int self);
  int more(int out, int results, int handler, int get, int arg1, int);
  std::string Grüße(const std::string& wörter);

 private:
  int base_;
};

class Outer {
 public:
  // A remote class nested in another.
  class PROCXY_REMOTE Nested {
   public:
    int twice(int value);
  };
};

extern "C++" {
class PROCXY_REMOTE InExtern {
 public:
  int thrice(int value);
};
}

}  // namespace e2e::constructs

class PROCXY_REMOTE Café {
 public:
  std::string brew(const std::string& bean);
};

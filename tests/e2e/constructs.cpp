#include "constructs.h"

namespace e2e::constructs {

std::set<int, std::greater<int>> Containers::descending(const std::set<int, std::greater<int>>& value) { return value; }
std::map<std::string, int, std::less<>> Containers::transparent(const std::map<std::string, int, std::less<>>& value) {
  return value;
}
std::unordered_map<int, std::string, IdHash, IdEqual> Containers::hashed(
    const std::unordered_map<int, std::string, IdHash, IdEqual>& value) {
  return value;
}
std::unordered_set<int, IdHash> Containers::hashed_set(const std::unordered_set<int, IdHash>& value) { return value; }
std::pmr::string Containers::pmr_text(const std::pmr::string& value) { return value; }
std::pmr::vector<std::int32_t> Containers::pmr_ints(const std::pmr::vector<std::int32_t>& value) { return value; }
point_t Containers::point(point_t value) { return {value.y, value.x}; }
colour_t Containers::colour(colour_t value) { return value; }
Shape Containers::shape(const Shape& value) {
  return {{value.size.height, value.size.width}, value.kind, value.id + 1, value.label + "!"};
}
std::vector<Shape> Containers::shapes(const std::vector<Shape>& value) { return value; }
std::variant<std::monostate, int, std::string> Containers::maybe(
    const std::variant<std::monostate, int, std::string>& value) {
  return value;
}
Count Containers::count(std::uint64_t raw, Count other) { return raw + other; }

Counter::Counter(int start) : total_(start) {}
Counter::Counter(const std::string& digits, int scale) : total_(std::stoi(digits) * scale) {}
int Counter::value() const { return total_; }
int Counter::add(int step) { return total_ += step; }
int Counter::add(int step, int times) { return total_ += step * times; }

int Tally::add(double step) { return total_ += static_cast<int>(step * 10); }
int Tally::operator_count() const { return 3; }
int Tally::lvalue_only() & { return -total_; }
int Tally::legacy_value() const { return total_; }
int Tally::checked() const { return total_ * 2; }
void Tally::tick() { ticked(value()); }

Names::Names(int construction_) : base_(construction_) {}
int Names::locals(int message_, int params_, int put, int construction_, int wire, int self) {
  return base_ + message_ * 100000 + params_ * 10000 + put * 1000 + construction_ * 100 + wire * 10 + self;
}
int Names::more(int out, int results, int handler, int get, int arg1, int last) {
  return out * 100000 + results * 10000 + handler * 1000 + get * 100 + arg1 * 10 + last;
}
std::string Names::Grüße(const std::string& wörter) { return "grüße, " + wörter; }

int Outer::Nested::twice(int value) { return 2 * value; }
int InExtern::thrice(int value) { return 3 * value; }

}  // namespace e2e::constructs

std::string Café::brew(const std::string& bean) { return bean + " ☕"; }

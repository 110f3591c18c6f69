#pragma once

#include <procxy/annotate.h>

#include <cstdint>
#include <string>
#include <vector>

namespace store {

enum class Kind : std::uint8_t { book, disc };
enum Legacy { kOld, kNew };

struct Price {
  std::int64_t cents;
  std::string currency;
};

struct Item {
  std::string title;
  Kind kind;
  Legacy legacy;
  Price price;
  std::vector<Price> history;
  std::vector<std::vector<std::string>> tags;
};

struct Empty {};

using Items = std::vector<Item>;

// Nested aggregates, enums, lists of lists, aliases.
class PROCXY_REMOTE Inventory {
 public:
  void add(const Item& item);
  Items all() const;
  PROCXY_QUERY std::int32_t count(Kind kind) const;
  Empty nothing(Empty e);
  std::vector<bool> flags(const std::vector<std::uint64_t>& ids);
};

}  // namespace store

// Aggregates named like Cap'n Proto's builtin types get schema names that do
// not shadow them.
struct Data {
  std::string text;
};
struct List {
  std::vector<Data> items;
};

class PROCXY_REMOTE Shadowing {
 public:
  List echo(const List& list);
};

#pragma once

// Each refusal names the type to use instead (issue 17).

#include <procxy/annotate.h>

#include <any>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace bad {

union Number {
  int i;
  double d;
};

struct WithAnonymous {
  struct {
    int a;
  };
};

class PROCXY_REMOTE Advice {
 public:
  void text(const char* name);
  void buffer(char* out);
  void raw(const void* data, std::size_t size);
  void callback(void (*fn)(int));
  void values(std::span<const int> values);
  void queue(const std::deque<double>& items);
  void many(const std::multimap<std::string, int>& entries);
  void wide(const std::wstring& text);
  void letter(wchar_t c);
  void fixed(const int (&values)[3]);
  void owned(std::unique_ptr<std::string> value);
  void anything(const std::any& value);
  void number(Number n);
  void anonymous(const WithAnonymous& value);
  void one(std::variant<std::monostate> value);
  void huge(__int128 value);
};

}  // namespace bad

// A class of an outside project, written the way libraries write headers:
// include guard, namespace, doc comments, special members, a private part.
#ifndef CONSUMER_GREETER_H_
#define CONSUMER_GREETER_H_

#include <procxy/annotate.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace consumer {

/// Greets people and remembers how often it greeted each.
class PROCXY_REMOTE Greeter {
 public:
  Greeter();
  /// Greets with `greeting` instead of "hello".
  explicit Greeter(std::string greeting);

  /// Returns "<greeting>, <name>".
  std::string greet(const std::string& name);
  /// How often each name was greeted.
  PROCXY_QUERY std::map<std::string, std::uint64_t> counts() const;
  /// Greets everyone in `names`, in order.
  std::vector<std::string> greet_all(const std::vector<std::string>& names);

 private:
  std::string greeting_;
  std::map<std::string, std::uint64_t> counts_;
};

}  // namespace consumer

#endif  // CONSUMER_GREETER_H_

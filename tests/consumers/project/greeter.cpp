#include "greeter.h"

namespace consumer {

Greeter::Greeter() : Greeter("hello") {}
Greeter::Greeter(std::string greeting) : greeting_(std::move(greeting)) {}

std::string Greeter::greet(const std::string& name) {
  ++counts_[name];
  return greeting_ + ", " + name;
}

std::map<std::string, std::uint64_t> Greeter::counts() const { return counts_; }

std::vector<std::string> Greeter::greet_all(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& name : names) out.push_back(greet(name));
  return out;
}

}  // namespace consumer

#pragma once

#include <procxy/annotate.h>

#include <functional>
#include <memory>
#include <vector>

namespace bad {

struct Node {
  int value;
  std::vector<Node> children;
};

class Opaque {
  int hidden_;
};

template <class T>
struct Box {
  T value;
};

// Every parameter and result here is refused; all are reported in one run.
class PROCXY_REMOTE Everything {
 public:
  void pointer(int* p);
  void out_param(int& out);
  void callback(std::function<void()> cb);
  void owned(std::unique_ptr<int> value);
  void opaque(Opaque value);
  void recursive(const Node& node);
  void moved(std::vector<int>&& values);
  void array(int values[4]);
  void precise(long double value);
  int* returns_pointer();
  const int& returns_reference();
  void nested(std::vector<int*> pointers);
  void unnamed(int*);
  void templated(Box<int> box);
};

}  // namespace bad

#pragma once

// Members that cannot be exposed, each refused in one run (issue 17).

#include <procxy/annotate.h>

#include <string>

namespace bad {

class Base {
 public:
  bool operator<(const Base& other) const;  // inherited: a warning, not exposed
  PROCXY_EVENT void inherited_event(int value);
};

class PROCXY_REMOTE Members : public Base {
 public:
  bool operator==(const Members& other) const;
  int operator()(int x);
  explicit operator bool() const;
  Members& operator=(int value);  // not a special member: an operator
  int value();
  int value() const;
  std::string name();
  std::string name(int width = 0);
  int consume() &&;
  int procxy_connection();
};

class PROCXY_REMOTE Abstract {
 public:
  virtual ~Abstract() = default;
  virtual int run() = 0;
};

class NoDefault {
 public:
  explicit NoDefault(int seed);
};

// No constructor of its own, and its base cannot be default-constructed.
class PROCXY_REMOTE Inheriting : public NoDefault {
 public:
  int get();
};

// Its implicit default constructor is deleted: a member has none.
class PROCXY_REMOTE HoldsNoDefault {
 public:
  int get();

 private:
  NoDefault member_;
};

class PROCXY_REMOTE Ambiguous {
 public:
  Ambiguous();
  explicit Ambiguous(int seed = 0);
};

class PROCXY_REMOTE PrivateTypes {
 public:
  void options(int mode);
  int format(const char* pattern, ...);

 private:
  struct Options {
    int level;
  };
  enum class Mode { fast, slow };

 public:
  Options current();
  void set(Mode mode);
};

class Left {
 public:
  int side();
};
class Right {
 public:
  int side(int) const;
};

// side() is ambiguous in C++ too.
class PROCXY_REMOTE BothSides : public Left, public Right {
 public:
  PROCXY_EVENT void conditional() noexcept(sizeof(int) == 4);
  PROCXY_EVENT void qualified() &;
};

template <class T>
class Template {
 public:
  class PROCXY_REMOTE Inside {
   public:
    T get();
  };
};

}  // namespace bad

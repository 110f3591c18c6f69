// The parser on inline headers: what reaches the model.

#include <catch2/catch.hpp>
#include <sstream>

#include "model/dump.h"
#include "parse/parser.h"

using namespace procxy;

namespace {

struct Parsed {
  std::optional<model::Module> module;
  std::string diagnostics;
  int errors;
};

Parsed parse_text(const std::string& text) {
  std::ostringstream out;
  DiagnosticSink sink(out);
  auto module = parse::parse({"inline.h", {}, "#include <procxy/annotate.h>\n" + text}, sink);
  return {std::move(module), out.str(), sink.error_count()};
}

const model::Method& method(const model::Interface& interface, const std::string& name) {
  for (const auto& m : interface.methods) {
    if (m.name == name) return m;
  }
  FAIL("no method " << name);
  throw;
}

}  // namespace

TEST_CASE("annotations choose what is exposed and how", "[parse]") {
  Parsed p = parse_text(R"(
    namespace a::b {
    class PROCXY_REMOTE Widget {
     public:
      Widget();
      Widget(const Widget&);
      Widget(Widget&&);
      Widget(int x, int y = 2);
      int plain(int x);
      PROCXY_QUERY int query() const;
      PROCXY_CACHE(250) int cached(int x) const;
      PROCXY_EVENT void changed(int value);
      PROCXY_HIDDEN void hidden();
      static int factory();
      void removed() = delete;
     private:
      void secret();
    };
    class NotRemote { public: void f(); };
    })");
  REQUIRE(p.module);
  REQUIRE(p.module->interfaces.size() == 1);
  const model::Interface& w = p.module->interfaces[0];
  CHECK(w.qualified_name == "a::b::Widget");
  CHECK(w.name == "Widget");
  REQUIRE(w.constructors.size() == 2);  // copy and move constructors are not forms of construction
  CHECK(w.constructors[1].params.size() == 2);
  CHECK_FALSE(w.constructors[1].params[0].has_default);
  CHECK(w.constructors[1].params[1].has_default);
  std::vector<std::string> names;
  for (const auto& m : w.methods) names.push_back(m.name);
  CHECK(names == std::vector<std::string>{"plain", "query", "cached", "changed"});
  CHECK(method(w, "plain").kind == model::MethodKind::kMutation);
  CHECK(method(w, "query").kind == model::MethodKind::kQuery);
  CHECK(method(w, "query").is_const);
  CHECK(method(w, "cached").kind == model::MethodKind::kQuery);
  CHECK(method(w, "cached").cache_ms == 250);
  CHECK(method(w, "changed").kind == model::MethodKind::kEvent);
  CHECK_FALSE(method(w, "changed").is_defined);
}

TEST_CASE("a class without constructors gets its implicit default constructor", "[parse]") {
  Parsed p = parse_text("class PROCXY_REMOTE S { public: int f(); };");
  REQUIRE(p.module);
  REQUIRE(p.module->interfaces.at(0).constructors.size() == 1);
  CHECK(p.module->interfaces[0].constructors[0].params.empty());
}

TEST_CASE("types resolve through aliases to the model's kinds", "[parse]") {
  Parsed p = parse_text(R"(
    #include <cstdint>
    #include <string>
    #include <vector>
    namespace n {
    using Count = std::uint16_t;
    typedef std::vector<std::string> Names;
    enum class E : std::int64_t { a };
    enum Plain { x, y };
    struct Inner { double d; };
    struct Outer { Inner inner; std::vector<Inner> many; Names names; };
    class PROCXY_REMOTE C {
     public:
      Count count(const Names& names, E e, Plain p, char c, unsigned long ul);
      Outer outer(Outer o);
      void nothing();
      float f(bool b);
    };
    })");
  REQUIRE(p.module);
  const model::Interface& c = p.module->interfaces.at(0);
  const model::Method& count = method(c, "count");
  CHECK(count.result.kind == model::TypeKind::kInt);
  CHECK(count.result.bits == 16);
  CHECK_FALSE(count.result.is_signed);
  CHECK(count.params[0].type.kind == model::TypeKind::kVector);
  CHECK(count.params[0].type.args[0].kind == model::TypeKind::kString);
  CHECK(count.params[0].pass == model::PassBy::kConstRef);
  CHECK(count.params[0].type.spelling == "std::vector<std::string>");
  CHECK(count.params[1].type.kind == model::TypeKind::kEnum);
  CHECK(count.params[1].type.name == "n::E");
  CHECK(count.params[1].type.bits == 64);
  CHECK(count.params[2].type.kind == model::TypeKind::kEnum);
  CHECK(count.params[3].type.spelling == "char");
  CHECK(count.params[4].type.spelling == "unsigned long");
  CHECK(count.params[4].pass == model::PassBy::kValue);
  CHECK(method(c, "outer").result.kind == model::TypeKind::kStruct);
  CHECK(method(c, "nothing").result.kind == model::TypeKind::kVoid);
  CHECK(method(c, "f").result.kind == model::TypeKind::kFloat);
  // Aggregates are listed once, dependencies first.
  REQUIRE(p.module->structs.size() == 2);
  CHECK(p.module->structs[0].qualified_name == "n::Inner");
  CHECK(p.module->structs[1].qualified_name == "n::Outer");
  CHECK(p.module->structs[1].fields.size() == 3);
}

TEST_CASE("types that cannot cross are kept as unsupported with advice", "[parse]") {
  Parsed p = parse_text(R"(
    #include <functional>
    #include <memory>
    struct Node { int v; std::vector<Node> kids; };
    class Private { int x; };
    class PROCXY_REMOTE C {
     public:
      void f(int* p, int& out, std::function<void()> cb, std::unique_ptr<int> u, Private pr, Node n, int&& r);
    };)");
  REQUIRE(p.module);
  const auto& params = p.module->interfaces.at(0).methods.at(0).params;
  for (const auto& param : params) CHECK(param.type.kind == model::TypeKind::kUnsupported);
  CHECK_THAT(params[0].type.reason, Catch::Contains("pass the int itself, std::optional<int>"));
  CHECK_THAT(params[1].type.reason, Catch::Contains("out-parameters"));
  CHECK_THAT(params[2].type.reason, Catch::Contains("PROCXY_EVENT"));
  CHECK_THAT(params[3].type.reason, Catch::Contains("pass the int itself, or std::optional<int>"));
  CHECK_THAT(params[4].type.reason, Catch::Contains("private state"));
  CHECK_THAT(params[5].type.reason, Catch::Contains("recursive"));
  CHECK_THAT(params[6].type.reason, Catch::Contains("by value"));
}

TEST_CASE("only classes of the main file are extracted", "[parse]") {
  // <procxy/annotate.h> and the standard headers are included but contribute nothing.
  Parsed p = parse_text("#include <string>\nclass PROCXY_REMOTE Only { public: std::string s(); };");
  REQUIRE(p.module);
  CHECK(p.module->interfaces.size() == 1);
  CHECK_FALSE(p.module->dependencies.empty());
}

TEST_CASE("clang's own errors are reported and stop the parse", "[parse]") {
  Parsed p = parse_text("class PROCXY_REMOTE Broken { public: undeclared_type f(); };");
  CHECK_FALSE(p.module);
  CHECK(p.errors > 0);
  CHECK_THAT(p.diagnostics, Catch::Contains("undeclared_type"));
}

TEST_CASE("the model dump is deterministic", "[parse]") {
  std::string text = "class PROCXY_REMOTE C { public: int f(int a, int b = 1); };";
  Parsed a = parse_text(text);
  Parsed b = parse_text(text);
  REQUIRE(a.module);
  CHECK(model::dump(*a.module) == model::dump(*b.module));
}

TEST_CASE("aliases keep the name the user wrote; containers keep their policies", "[parse]") {
  Parsed p = parse_text(R"(
    #include <cstdint>
    #include <functional>
    #include <set>
    #include <string>
    namespace n {
    using Count = std::uint64_t;
    struct Hidden { private: using Secret = int; public: int f(); };
    class PROCXY_REMOTE C {
     public:
      Count count(std::uint32_t raw, std::set<int, std::greater<int>> down, std::set<int> up, std::string s);
    };
    })");
  REQUIRE(p.module);
  const model::Method& count = method(p.module->interfaces.at(0), "count");
  CHECK(count.result.spelling == "unsigned long");
  CHECK(count.result.as_written() == "::n::Count");
  CHECK(count.params[0].type.as_written() == "std::uint32_t");
  CHECK(count.params[1].type.spelling == "std::set<int, std::greater<int>>");
  CHECK(count.params[2].type.spelling == "std::set<int>");  // the default comparator is not spelled
  CHECK(count.params[3].type.written.empty());
}

TEST_CASE("unnamed types take the typedef's or the member's name", "[parse]") {
  Parsed p = parse_text(R"(
    namespace n {
    typedef struct { int x; } point_t;
    typedef enum { red, green } colour_t;
    struct Shape { struct { int w; } size; enum { a, b } kind; const int id = 0; };
    class PROCXY_REMOTE C { public: point_t p(colour_t c, Shape s); };
    })");
  REQUIRE(p.module);
  const model::Method& m = method(p.module->interfaces.at(0), "p");
  CHECK(m.result.name == "n::point_t");
  CHECK(m.result.spelling == "::n::point_t");
  CHECK(m.params[0].type.spelling == "::n::colour_t");
  REQUIRE(p.module->structs.size() == 3);
  CHECK(p.module->structs[1].qualified_name == "n::Shape::size");
  CHECK(p.module->structs[1].spelling == "decltype(::n::Shape::size)");
  CHECK(p.module->structs[2].fields[1].type.spelling == "decltype(::n::Shape::kind)");
}

TEST_CASE("base classes' methods and constructors, hidden as C++ hides them", "[parse]") {
  Parsed p = parse_text(R"(
    namespace n {
    class Base {
     public:
      explicit Base(int seed);
      int f(int);
      int g();
      int h();
     private:
      int secret();
    };
    class PROCXY_REMOTE D : public Base {
     public:
      using Base::Base;
      using Base::f;
      int f(double);
      int g(int);  // hides Base::g
      D& operator=(const D&) = default;
      int operator_count();
    };
    })");
  REQUIRE(p.module);
  INFO(p.diagnostics);
  CHECK(p.errors == 0);
  const model::Interface& d = p.module->interfaces.at(0);
  REQUIRE(d.constructors.size() == 1);
  CHECK(d.constructors[0].params.size() == 1);
  std::vector<std::string> names;
  for (const auto& m : d.methods) names.push_back(m.name + (m.inherited_from.empty() ? "" : "@" + m.inherited_from));
  CHECK(names == std::vector<std::string>{"f@n::Base", "f", "g", "operator_count", "h@n::Base"});
}

TEST_CASE("doc comments and [[deprecated]] reach the model", "[parse]") {
  Parsed p = parse_text(R"(
    class PROCXY_REMOTE C {
     public:
      // Adds.
      // Two lines.
      int add(int a);
      [[deprecated("use add")]] int old();
      int plain();
    };)");
  REQUIRE(p.module);
  const model::Interface& c = p.module->interfaces.at(0);
  CHECK_THAT(method(c, "add").doc, Catch::StartsWith("// Adds.\n") && Catch::EndsWith("// Two lines."));
  CHECK(method(c, "old").is_deprecated);
  CHECK(method(c, "old").deprecated_message == "use add");
  CHECK_FALSE(method(c, "plain").is_deprecated);
  CHECK(method(c, "plain").doc.empty());
}

#pragma once

// The plain model between the generator's stages: parse/ fills it from
// libclang, check/ diagnoses it, emit/ renders it. No clang types here.

#include <string>
#include <vector>

namespace procxy::model {

struct SourceLocation {
  std::string file;
  unsigned line = 0;
  unsigned column = 0;
};

enum class TypeKind {
  kVoid,
  kBool,
  kInt,           // bits, is_signed; spelling is the builtin type ("unsigned long")
  kFloat,         // bits 32 or 64
  kEnum,          // name is qualified; bits, is_signed describe the underlying type
  kString,        // std::string
  kVector,        // args[0] is the element type
  kStruct,        // an aggregate; name is qualified, its fields are in Module::structs
  kArray,         // std::array: args[0], count
  kSet,           // std::set: args[0]
  kUnorderedSet,  // std::unordered_set: args[0]
  kMap,           // std::map: args[0] key, args[1] value
  kUnorderedMap,  // std::unordered_map: args[0] key, args[1] value
  kOptional,      // std::optional: args[0]
  kVariant,       // std::variant: args are the alternatives
  kPair,          // std::pair: args[0], args[1]
  kTuple,         // std::tuple: args are the elements
  kBytes,         // std::vector<std::byte> or std::vector<std::uint8_t>: one blob
  kDuration,      // std::chrono::duration: args[0] the representation, name the period
  kTimePoint,     // a std::chrono::system_clock time point: args[0] its duration
  kPath,          // std::filesystem::path
  kStringView,    // std::string_view, as a parameter only
  kMonostate,     // std::monostate: no data (a variant's empty alternative)
  kUnsupported,   // spelling as written, reason says what to use instead
};

struct Type {
  TypeKind kind = TypeKind::kUnsupported;
  // The complete C++ type, valid in any scope (comparators, hashes and
  // allocators included); built from the canonical type, so equal types have
  // equal spellings. Generated code marshals with it.
  std::string spelling;
  // The type as the user wrote it (an alias's name, std::uint64_t), valid in
  // any scope; empty when it is `spelling`. Declarations a user reads use it.
  std::string written;
  std::string name;      // kEnum, kStruct: the qualified name ("demo::Point")
  unsigned bits = 0;     // kInt, kFloat, kEnum
  bool is_signed = false;
  unsigned long long count = 0;  // kArray: the number of elements
  std::vector<Type> args;
  std::string reason;  // kUnsupported

  const std::string& as_written() const { return written.empty() ? spelling : written; }
};

enum class PassBy { kValue, kConstRef };

struct Param {
  std::string name;  // may be empty: unnamed in the header
  Type type;
  PassBy pass = PassBy::kValue;
  bool has_default = false;
  SourceLocation location;
};

enum class MethodKind { kMutation, kQuery, kEvent };

struct Method {
  std::string name;
  MethodKind kind = MethodKind::kMutation;
  int cache_ms = 0;  // PROCXY_CACHE(ms); implies kQuery
  bool is_const = false;
  bool is_noexcept = false;  // for events: their definition must say so too
  bool is_defined = false;  // has a body in the header (an error for events)
  bool is_deprecated = false;   // [[deprecated]]: the proxy's method is too
  std::string deprecated_message;
  std::string doc;              // the comment before the declaration, as written
  std::string inherited_from;   // the base class that declares it; empty: the class itself
  Type result;
  std::vector<Param> params;
  SourceLocation location;
};

struct Constructor {
  std::vector<Param> params;
  SourceLocation location;
};

struct Interface {
  std::string name;            // "Calculator"
  std::string qualified_name;  // "demo::Calculator"
  SourceLocation location;
  std::vector<Constructor> constructors;
  std::vector<Method> methods;  // in declaration order, events included
};

struct Field {
  std::string name;
  Type type;
  SourceLocation location;
};

struct Struct {
  std::string qualified_name;  // unique key and schema name; "demo::Outer::pos" for an unnamed member type
  std::string spelling;        // "::demo::Point", "decltype(::demo::Outer::pos)"
  std::vector<Field> fields;
  SourceLocation location;
};

// Everything procxy-gen learnt from one header.
struct Module {
  std::string header;  // as given on the command line
  std::vector<Interface> interfaces;
  std::vector<Struct> structs;            // aggregates that cross the boundary, dependencies first
  std::vector<std::string> dependencies;  // every file the parse read, for --depfile
};

}  // namespace procxy::model

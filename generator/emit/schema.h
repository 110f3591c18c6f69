#pragma once

// The .capnp schema of one module, as its views are built: the name of every
// schema struct, the wire type of every C++ type, and the records
// (aggregates, pairs, tuples) and variants that generated code writes and
// reads field by field.

#include <kainjow/mustache.hpp>
#include <map>
#include <string>
#include <vector>

#include "emit/names.h"
#include "model/model.h"

namespace procxy::emit {

using Context = kainjow::mustache::data;

// The name of parameter `index`, as a schema field and in generated
// definitions: by position, so that no user's name (message_, put, ...) meets
// the generated code's own.
std::string arg_name(size_t index);

// The builder member put() writes a field with: set<Field> for scalars,
// adopt<Field> otherwise.
std::string setter(const std::string& field, const model::Type& type);

class Schema {
 public:
  // Names the module's aggregates and declares every pair, tuple and variant
  // its classes use.
  explicit Schema(const model::Module& module);

  Names& names() { return names_; }

  // "Int32", "List(Text)", "DemoPoint": the Cap'n Proto type of `type`.
  std::string wire_type(const model::Type& type) const;

  // The view of field `index` of a schema struct, of C++ type `type`.
  Context field(const std::string& wire_name, unsigned index, const model::Type& type,
                const std::string& comment) const;

  // Adds a struct to the schema.
  void add_struct(const std::string& name, const std::string& comment, const Context& fields, bool is_union = false);

  // Adds the params struct of a constructor, method or event and returns the
  // views of its fields.
  Context add_params_struct(const std::string& name, const std::string& comment,
                            const std::vector<model::Param>& params);

  const Context& structs() const { return structs_; }
  const Context& records() const { return records_; }
  const Context& variants() const { return variants_; }

 private:
  void declare_composites(const model::Type& type);
  void declare_record(const model::Type& type);
  void declare_variant(const model::Type& type);
  Context aggregate(const model::Struct& s);

  Names names_;
  std::map<std::string, std::string> struct_names_;     // aggregate -> schema name
  std::map<std::string, std::string> composite_names_;  // pair/tuple/variant spelling -> schema name
  Context structs_{Context::type::list};
  Context records_{Context::type::list};   // aggregates, pairs, tuples: written field by field
  Context variants_{Context::type::list};  // written as a union
};

}  // namespace procxy::emit

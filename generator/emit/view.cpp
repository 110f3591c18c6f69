#include "emit/view.h"

#include <filesystem>

#include "emit/class_view.h"
#include "emit/names.h"
#include "emit/schema.h"
#include "model/interface_hash.h"
#include "procxy/version.h"

namespace procxy::emit {

std::string stem_of(const std::string& header) { return std::filesystem::path(header).stem().string(); }

Context make_context(const model::Module& module) {
  std::string stem = stem_of(module.header);
  Context context;
  context.set("version", PROCXY_VERSION_STRING);
  context.set("version_number", std::to_string(PROCXY_VERSION));
  context.set("header", std::filesystem::path(module.header).filename().string());
  context.set("stem", stem);
  context.set("schema_namespace", "procxy_schema::" + identifier(stem));
  std::string id_source = stem;
  for (const model::Interface& interface : module.interfaces) id_source += ";" + interface.qualified_name;
  context.set("file_id", hex(model::fnv1a(id_source) | (1ULL << 63)));

  // The schema's composites first, then each class's structs: the order of
  // the .capnp file, and of the names handed out.
  Schema schema(module);
  Context interfaces{Context::type::list};
  for (const model::Interface& interface : module.interfaces) interfaces.push_back(class_view(module, interface, schema));
  context.set("records", schema.records());
  context.set("variants", schema.variants());
  context.set("has_composites", !schema.records().list_value().empty() || !schema.variants().list_value().empty());
  context.set("interfaces", interfaces);
  context.set("schema_structs", schema.structs());
  return context;
}

}  // namespace procxy::emit

# Build step: turns templates/*.tmpl into a C++ source defining
# procxy::emit::embedded_templates(), so procxy-gen needs no files at run time.
# Usage: cmake -DTEMPLATE_DIR=... -DOUTPUT=... -P embed_templates.cmake
file(GLOB templates RELATIVE "${TEMPLATE_DIR}" "${TEMPLATE_DIR}/*.tmpl")
list(SORT templates)
set(body "")
foreach(name IN LISTS templates)
  file(READ "${TEMPLATE_DIR}/${name}" text)
  string(REGEX REPLACE "\\.tmpl$" "" key "${name}")
  string(APPEND body "      {\"${key}\", R\"procxy_tmpl(${text})procxy_tmpl\"},\n")
endforeach()
set(source "// Written by embed_templates.cmake from templates/. DO NOT EDIT.
#include <map>
#include <string>

namespace procxy::emit {

const std::map<std::string, std::string>& embedded_templates() {
  static const std::map<std::string, std::string> templates = {
${body}  };
  return templates;
}

}  // namespace procxy::emit
")
file(WRITE "${OUTPUT}.tmp" "${source}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)

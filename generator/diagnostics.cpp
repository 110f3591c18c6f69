#include "diagnostics.h"

namespace procxy {
namespace {

const char* severity_name(Severity severity) {
  switch (severity) {
    case Severity::kNote:
      return "note";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

}  // namespace

void DiagnosticSink::report(Severity severity, const model::SourceLocation& location, const std::string& message) {
  if (severity == Severity::kError) ++errors_;
  if (!location.file.empty()) {
    out_ << location.file << ':' << location.line << ':' << location.column << ": ";
  } else {
    out_ << "procxy-gen: ";
  }
  out_ << severity_name(severity) << ": procxy: " << message << '\n';
}

void DiagnosticSink::forward(Severity severity, const std::string& formatted) {
  if (severity == Severity::kError) ++errors_;
  out_ << formatted << '\n';
}

}  // namespace procxy

#pragma once

// The one sink every stage reports user-facing problems to. Messages are
// printed like a compiler's: "file:line:col: error: procxy: ...".

#include <ostream>
#include <string>

#include "model/model.h"

namespace procxy {

enum class Severity { kNote, kWarning, kError };

class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::ostream& out) : out_(out) {}

  void report(Severity severity, const model::SourceLocation& location, const std::string& message);
  void error(const model::SourceLocation& location, const std::string& message) {
    report(Severity::kError, location, message);
  }
  // A message from clang itself, already formatted.
  void forward(Severity severity, const std::string& formatted);

  int error_count() const { return errors_; }

 private:
  std::ostream& out_;
  int errors_ = 0;
};

}  // namespace procxy

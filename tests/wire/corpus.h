#pragma once

// The conformance corpus: corpus/<name>.frame holds the bytes one side sends,
// written as text; corpus/<name>.expected says what each side must do.
//
// .frame tokens, little-endian: u16:N u32:N u64:N (decimal or 0x hex), a
// two-digit hex byte, `kind` (the frame kind the receiver expects: Call for
// the child, Result for the parent), `shared_kind` (the same, its payload in
// shared memory: a descriptor), `eof` (the sender then closes), and
// `repeat N <tokens...>` for the rest of a line. `#` starts a comment.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace wire_test {

enum class Receiver { kChild, kParent };

struct Sample {
  std::string name;
  std::vector<std::uint8_t> bytes;
  bool eof = false;
  std::string expected;  // "exit 70: <text>", "error reply: <text>", "closed", "ProtocolError: <text>", ...
};

// Every sample of the corpus, for one receiver, by name.
std::vector<Sample> load_corpus(const std::filesystem::path& directory, Receiver receiver);

}  // namespace wire_test

// Writes the wire conformance corpus (tests/wire/corpus, kept as text) as the
// raw bytes fuzz_frame reads: one file per sample and receiver. Fuzzing then
// starts from frames that reach each check, not from an empty corpus.
// Usage: fuzz_seeds OUT_DIR

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "corpus.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    std::filesystem::path out = argv[1];
    std::filesystem::create_directories(out);
    int written = 0;
    for (auto [receiver, side] :
         {std::pair{wire_test::Receiver::kChild, "child"}, std::pair{wire_test::Receiver::kParent, "parent"}}) {
      for (const wire_test::Sample& sample : wire_test::load_corpus(PROCXY_WIRE_CORPUS, receiver)) {
        std::filesystem::path path = out / (std::string(side) + "_" + sample.name);
        std::ofstream file(path, std::ios::binary);
        file.write(reinterpret_cast<const char*>(sample.bytes.data()),
                   static_cast<std::streamsize>(sample.bytes.size()));
        if (!file) throw std::runtime_error("cannot write " + path.string());
        ++written;
      }
    }
    std::printf("fuzz_seeds: %d seeds in %s\n", written, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}

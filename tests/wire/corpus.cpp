#include "corpus.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wire_test {
namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void token(const std::string& text, Receiver receiver, Sample& sample) {
  auto number = [&](std::size_t at) { return std::stoull(text.substr(at), nullptr, 0); };
  if (text == "kind") return put(sample.bytes, receiver == Receiver::kChild ? 4 : 5, 2);
  if (text == "shared_kind") return put(sample.bytes, (receiver == Receiver::kChild ? 4 : 5) | 0x8000, 2);
  if (text == "eof") {
    sample.eof = true;
    return;
  }
  if (text.rfind("u16:", 0) == 0) return put(sample.bytes, number(4), 2);
  if (text.rfind("u32:", 0) == 0) return put(sample.bytes, number(4), 4);
  if (text.rfind("u64:", 0) == 0) return put(sample.bytes, number(4), 8);
  if (text.size() == 2) return put(sample.bytes, std::stoul(text, nullptr, 16), 1);
  throw std::runtime_error(sample.name + ".frame: unknown token '" + text + "'");
}

Sample load(const std::filesystem::path& frame, Receiver receiver) {
  Sample sample;
  sample.name = frame.stem().string();
  std::ifstream in(frame);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string word; words >> word;) tokens.push_back(word);
    int times = 1;
    if (!tokens.empty() && tokens[0] == "repeat") {
      times = std::stoi(tokens.at(1));
      tokens.erase(tokens.begin(), tokens.begin() + 2);
    }
    for (int i = 0; i < times; ++i) {
      for (const std::string& t : tokens) token(t, receiver, sample);
    }
  }
  std::ifstream expected(std::filesystem::path(frame).replace_extension(".expected"));
  std::string prefix = receiver == Receiver::kChild ? "child: " : "parent: ";
  while (std::getline(expected, line)) {
    if (line.rfind(prefix, 0) == 0) sample.expected = line.substr(prefix.size());
  }
  if (sample.expected.empty()) throw std::runtime_error(sample.name + ".expected: no '" + prefix + "' line");
  return sample;
}

}  // namespace

std::vector<Sample> load_corpus(const std::filesystem::path& directory, Receiver receiver) {
  std::vector<std::filesystem::path> frames;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == ".frame") frames.push_back(entry.path());
  }
  std::sort(frames.begin(), frames.end());
  std::vector<Sample> samples;
  for (const auto& frame : frames) samples.push_back(load(frame, receiver));
  return samples;
}

}  // namespace wire_test

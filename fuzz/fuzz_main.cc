// A stand-in for libFuzzer in ordinary builds, so that every fuzz target
// also runs in the test suite: it feeds the target the files named on the
// command line, then `--runs=N` (default 20000) inputs mutated from them
// and from each other with a fixed seed. Real fuzzing: configure with
// -DLIAISON_FUZZ=ON and clang (README, "Fuzzing").
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string Mutate(std::string input, const std::vector<std::string>& pool,
                   std::mt19937_64& random) {
  const int edits = 1 + static_cast<int>(random() % 8);
  for (int i = 0; i < edits; ++i) {
    const size_t at = input.empty() ? 0 : random() % (input.size() + 1);
    switch (random() % 6) {
      case 0:  // flip a byte
        if (!input.empty()) input[at % input.size()] ^= 1 << (random() % 8);
        break;
      case 1:  // insert a random byte
        input.insert(at, 1, static_cast<char>(random()));
        break;
      case 2:  // erase a run
        if (!input.empty()) input.erase(at % input.size(), 1 + random() % 16);
        break;
      case 3: {  // splice in part of another input
        const std::string& other = pool[random() % pool.size()];
        if (!other.empty()) {
          const size_t from = random() % other.size();
          input.insert(at, other.substr(from, 1 + random() % 64));
        }
        break;
      }
      case 4:  // an interesting byte
        if (!input.empty()) {
          static const char kBytes[] = {'\0', '\n',   '"',    '\\',
                                        '{',  '}',    '+',    '/',
                                        '=',  '\xff', '\x80', '\x7f'};
          input[at % input.size()] = kBytes[random() % sizeof(kBytes)];
        }
        break;
      default:  // duplicate a run
        if (!input.empty()) {
          const size_t from = at % input.size();
          input.insert(from, input.substr(from, 1 + random() % 32));
        }
        break;
    }
  }
  if (input.size() > 1 << 16) input.resize(1 << 16);
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 20000;
  std::vector<std::string> pool = {""};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--runs=", 0) == 0) {
      runs = std::stol(arg.substr(7));
      continue;
    }
    std::ifstream file(arg, std::ios::binary);
    if (!file) {
      std::cerr << "cannot read " << arg << "\n";
      return 2;
    }
    std::stringstream text;
    text << file.rdbuf();
    pool.push_back(text.str());
  }
  for (const std::string& input : pool) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
  }
  std::mt19937_64 random(20261125);
  for (long i = 0; i < runs; ++i) {
    std::string input = Mutate(pool[random() % pool.size()], pool, random);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
    if (i % 64 == 0 && pool.size() < 4096) pool.push_back(std::move(input));
  }
  std::cout << "ran " << pool.size() - 1 + runs << " inputs\n";
  return 0;
}

// liaison: the command-line client. All logic is in cli.cc.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return liaison::client::RunCli(args, std::cout, std::cerr,
                                 liaison::client::ProcessEnv,
                                 isatty(STDERR_FILENO) == 1);
}

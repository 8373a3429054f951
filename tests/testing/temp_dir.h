// A fresh directory under TMPDIR, removed with everything in it on
// destruction.
#ifndef LIAISON_TESTS_TESTING_TEMP_DIR_H_
#define LIAISON_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace liaison::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_TEMP_DIR_H_

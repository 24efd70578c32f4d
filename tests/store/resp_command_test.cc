// Unit tests of the RESP encoder behind intake's and the worker's EVALSHA commands.
#include "store/resp_command.h"

#include "gtest/gtest.h"

namespace alliance {
namespace {

TEST(RespCommandTest, EncodesAnArrayOfBulkStrings) {
  std::string out;
  RespCommand command(&out);
  command.Begin(3);
  command.Arg("SET");
  command.Arg("key");
  command.Arg(std::string_view("a\r\n\0b", 5));
  EXPECT_EQ(out, std::string("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\na\r\n\0b\r\n", 33));
}

TEST(RespCommandTest, EmptyAndLongArguments) {
  std::string out;
  RespCommand command(&out);
  command.Begin(2);
  command.Arg("");
  command.Arg(std::string(1234567, 'x'));
  EXPECT_EQ(out.substr(0, 18), "*2\r\n$0\r\n\r\n$1234567");
  EXPECT_EQ(out.size(), 4u + 6u + 10u + 1234567u + 2u);
}

}  // namespace
}  // namespace alliance

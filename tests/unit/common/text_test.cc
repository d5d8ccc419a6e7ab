// Text on its way to terminals and to formats that must be UTF-8.
#include <gtest/gtest.h>

#include "common/printable_text.h"
#include "common/utf8_text.h"

namespace chaos {
namespace {

TEST(ValidUtf8, KeepsUtf8AndReplacesWhatIsNot) {
  EXPECT_EQ(valid_utf8("plain"), "plain");
  EXPECT_EQ(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
  // A comm cut inside a character, Latin-1, an overlong '/', a surrogate.
  EXPECT_EQ(valid_utf8("nats-s\xC3"), "nats-s\xEF\xBF\xBD");
  EXPECT_EQ(valid_utf8("\xE9t\xE9"), "\xEF\xBF\xBDt\xEF\xBF\xBD");
  EXPECT_EQ(valid_utf8("\xC0\xAF").find('/'), std::string::npos);
  EXPECT_EQ(valid_utf8("\xED\xA0\x80").find("\xED\xA0\x80"), std::string::npos);
  EXPECT_EQ(valid_utf8(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(PrintableText, ControlCharactersBecomeQuestionMarks) {
  EXPECT_EQ(printable_text("ok\x1b[2J\r\nx\x7f\ty"), "ok?[2J??x??y");
  EXPECT_EQ(printable_text("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(printable_text("a\xC2\x9B" "2Jb\xC2\xA0" "c\xC2"), "a?2Jb\xC2\xA0" "c\xC2")
      << "C1's CSI goes, a no-break space and a cut sequence stay";
}

}  // namespace
}  // namespace chaos

#include "common/toml_reader.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/duration.h"

namespace chaos {
namespace {

using namespace std::chrono_literals;

// Parses `text` as "t.toml" and reads it with `read`; returns the errors.
template <typename Read>
std::vector<std::string> errors_of(const std::string& text, Read read) {
  Diagnostics diagnostics("t.toml");
  auto table = parse_toml(text, diagnostics);
  if (table) {
    TableReader reader(*table, "", diagnostics);
    read(reader);
  }
  return diagnostics.errors();
}

TEST(TomlReader, TypedGettersReadValues) {
  Diagnostics diagnostics("t.toml");
  auto table = parse_toml(
      "name = \"x\"\nratio = 2\ncount = 7\nflag = true\nwait = \"1m30s\"\nitems = [\"a\", \"b\"]\n"
      "[labels]\nrole = \"broker\"\n",
      diagnostics);
  ASSERT_TRUE(table.has_value());
  TableReader reader(*table, "", diagnostics);
  EXPECT_EQ(reader.string("name"), "x");
  EXPECT_EQ(reader.number("ratio"), 2.0);
  EXPECT_EQ(reader.integer("count", 1, 10), 7);
  EXPECT_EQ(reader.boolean("flag"), true);
  EXPECT_EQ(reader.duration("wait"), std::chrono::nanoseconds(90s));
  EXPECT_EQ(reader.string_list("items"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reader.string_map("labels")->at("role"), "broker");
  EXPECT_EQ(reader.string("absent"), std::nullopt);
  reader.reject_unknown_keys();
  EXPECT_TRUE(diagnostics.empty()) << diagnostics.to_status().message();
}

TEST(TomlReader, WrongTypesNameTheKeyTheExpectedAndTheActualType) {
  EXPECT_EQ(errors_of("name = 3\nitems = [\"a\", 1]\nflag = \"yes\"\n",
                      [](TableReader& r) {
                        r.string("name");
                        r.string_list("items");
                        r.boolean("flag");
                      }),
            (std::vector<std::string>{"t.toml:1:8: name: expected a string, got integer",
                                      "t.toml:2:15: items[]: expected a string, got integer",
                                      "t.toml:3:8: flag: expected true or false, got string"}));
}

TEST(TomlReader, DurationsAreBoundedAsAsked) {
  const std::string text = "zero = \"0s\"\nlong = \"2h\"\nbad = \"soon\"\nnumber = 5\n";
  EXPECT_EQ(errors_of(text,
                      [](TableReader& r) {
                        r.duration("zero");
                        EXPECT_EQ(r.duration("zero", false, DurationLimits{true, {}}), std::chrono::nanoseconds(0));
                        r.duration("long", false, DurationLimits{false, 1h});
                        r.duration("bad");
                        r.duration("number");
                      }),
            (std::vector<std::string>{"t.toml:1:8: zero: duration must be positive",
                                      "t.toml:2:8: long: must be at most 1h",
                                      "t.toml:3:7: bad: invalid duration 'soon': expected a number at offset 0",
                                      "t.toml:4:10: number: expected a duration string like \"20s\", got integer"}));
}

TEST(TomlReader, IntegersOutsideTheirRangeAreErrors) {
  EXPECT_EQ(errors_of("n = 0\n", [](TableReader& r) { r.integer("n", 1, 4); }),
            std::vector<std::string>{"t.toml:1:5: n: 0 is outside 1..4"});
}

TEST(TomlReader, UnknownKeysAreReportedWhereTheyAre) {
  Diagnostics diagnostics("t.toml");
  auto table = parse_toml("known = 1\ntypo = 2\n[section]\ninner = 1\nother = 2\n", diagnostics);
  ASSERT_TRUE(table.has_value());
  TableReader root(*table, "", diagnostics);
  root.node("known");
  TableReader section(*root.table("section"), "section", diagnostics);
  section.node("inner");
  section.reject_unknown_keys();
  root.reject_unknown_keys();
  EXPECT_EQ(diagnostics.errors(), (std::vector<std::string>{"t.toml:5:1: section: unknown key 'other'",
                                                            "t.toml:2:1: top level: unknown key 'typo'"}));
}

TEST(TomlReader, ErrorAtKeyPointsAtTheValue) {
  EXPECT_EQ(errors_of("[policy]\nkinds = [\"x\"]\n",
                      [](TableReader& r) {
                        TableReader policy(*r.table("policy"), "policy", r.diagnostics());
                        policy.string_list("kinds");
                        policy.error_at_key("kinds", "unknown kind 'x'");
                      }),
            std::vector<std::string>{"t.toml:2:9: policy.kinds: unknown kind 'x'"});
}

TEST(TomlReader, SyntaxErrorsCarryTheParsersPosition) {
  Diagnostics diagnostics("t.toml");
  EXPECT_FALSE(parse_toml("a = 1\nb = \n", diagnostics).has_value());
  ASSERT_EQ(diagnostics.errors().size(), 1u);
  EXPECT_EQ(diagnostics.errors()[0].rfind("t.toml:2:", 0), 0u) << diagnostics.errors()[0];
  EXPECT_EQ(diagnostics.to_status().code(), StatusCode::kInvalidArgument);
}

TEST(TomlReader, FilesAreBoundedAndMissingOnesAreErrors) {
  Diagnostics missing("/nonexistent/t.toml");
  EXPECT_FALSE(parse_toml_file("/nonexistent/t.toml", missing).has_value());
  EXPECT_EQ(missing.errors().at(0).rfind("/nonexistent/t.toml:1:1: cannot read file", 0), 0u);

  const std::string path = ::testing::TempDir() + "/toml-reader-big-" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << "# " << std::string(kMaxConfigBytes, 'x') << "\n";
  Diagnostics big(path);
  EXPECT_FALSE(parse_toml_file(path, big).has_value());
  std::filesystem::remove(path);
  EXPECT_NE(big.errors().at(0).find("more than the limit of"), std::string::npos) << big.errors().at(0);
}

// toml++ recurses once per part of a dotted key or table name, unbounded:
// 50,000 parts overflowed the stack. Deeper than kMaxTomlKeyParts is refused
// before parsing; dots in strings, comments and numbers are not parts.
TEST(TomlReader, KeysOfTooManyDottedPartsAreRefusedBeforeParsing) {
  const auto dotted = [](size_t parts) {
    std::string key = "a";
    for (size_t i = 1; i < parts; ++i) key += ".a";
    return key;
  };
  Diagnostics header("t.toml");
  EXPECT_FALSE(parse_toml("x = 1\n[" + dotted(50'000) + "]\n", header).has_value());
  ASSERT_EQ(header.errors().size(), 1u);
  // The 128th dot: "[a" and then ".a" per part.
  EXPECT_EQ(header.errors()[0], "t.toml:2:" + std::to_string(2 * kMaxTomlKeyParts + 1) +
                                    ": a key or table name of more than " + std::to_string(kMaxTomlKeyParts) +
                                    " dotted parts");
  Diagnostics key("t.toml");
  EXPECT_FALSE(parse_toml("x = { " + dotted(kMaxTomlKeyParts + 1) + " = 1 }\n", key).has_value());
  EXPECT_EQ(key.errors().size(), 1u);

  const std::string dots(5'000, '.');
  const std::string text = "[" + dotted(kMaxTomlKeyParts) + "]\n" +  //
                           "b = \"" + dots + "\"\n" +                 //
                           "c = '" + dots + "'\n" +                   //
                           "d = \"\"\"\n" + dots + "\n\"\"\"\n" +     //
                           "e = '''\n" + dots + "\n'''\n" +           //
                           "f = \"\\\"" + dots + "\"\n" +             //
                           "# " + dots + "\n" +                       //
                           "g = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]\n";
  Diagnostics fine("t.toml");
  EXPECT_TRUE(parse_toml(text, fine).has_value()) << fine.to_status().message();
}

// nan passes every "refuse when v < min || v > max" check after it.
TEST(TomlReader, NumbersMustBeFinite) {
  EXPECT_EQ(errors_of("a = nan\nb = -inf\nc = 1.5\n",
                      [](TableReader& r) {
                        EXPECT_EQ(r.number("a"), std::nullopt);
                        EXPECT_EQ(r.number("b"), std::nullopt);
                        EXPECT_EQ(r.number("c"), 1.5);
                      }),
            (std::vector<std::string>{"t.toml:1:5: a: must be a finite number, not nan",
                                      "t.toml:2:5: b: must be a finite number, not inf"}));
}

// Text reaches terminals: an escape sequence or a lone carriage return in a
// title could clear the screen or print a fake verdict over a line.
TEST(TomlReader, TextWithControlCharactersIsRefused) {
  const auto errors = errors_of(
      "a = \"ok\\u001b]0;x\\u0007\"\nb = [\"\\rFAKE\"]\n[c]\nk = \"v\\u009b\"\n[d]\nk = \"\\u007f\"\n",
      [](TableReader& r) {
        EXPECT_EQ(r.string("a"), std::nullopt);
        EXPECT_EQ(r.string_list("b"), std::nullopt);
        EXPECT_EQ(r.string_map("c"), std::nullopt);
        EXPECT_EQ(r.string_map("d"), std::nullopt);
      });
  EXPECT_EQ(errors, (std::vector<std::string>{"t.toml:1:5: a: holds a control character (U+001B at byte 2)",
                                              "t.toml:2:6: b[]: holds a control character (U+000D at byte 0)",
                                              "t.toml:4:5: c.k: holds a control character (U+009B at byte 1)",
                                              "t.toml:6:5: d.k: holds a control character (U+007F at byte 0)"}));
  EXPECT_TRUE(errors_of("a = \"tab\\there\"\nb = \"\"\"\nline\r\nnext\n\"\"\"\nc = \"caf\u00e9\"\n",
                        [](TableReader& r) {
                          EXPECT_TRUE(r.string("a"));
                          EXPECT_TRUE(r.string("b"));
                          EXPECT_TRUE(r.string("c"));
                        })
                  .empty());
}

// Past a year nothing is meant, and sums of such durations could overflow.
TEST(TomlReader, DurationsAreAtMostAYearUnlessBoundedOtherwise) {
  const auto errors = errors_of("a = \"366d\"\nb = \"367d\"\nc = \"100000d\"\n", [](TableReader& r) {
    EXPECT_EQ(r.duration("a"), kMaxTomlDuration);
    r.duration("b");
    r.duration("c");
  });
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "t.toml:2:5: b: must be at most " + format_duration(kMaxTomlDuration));
  EXPECT_EQ(errors[1].rfind("t.toml:3:5: c: must be at most ", 0), 0u) << errors[1];
}

}  // namespace
}  // namespace chaos

// Text from files, clusters and agents on its way to a terminal or into a
// line-based file (a TOML comment, a listing): control characters (C0, DEL
// and UTF-8's C1), which could move the cursor, clear the screen or start a
// new line, become '?'.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chaos {

std::string printable_text(std::string_view text);

// How many bytes the control character starting at text[at] takes: 1 for C0
// and DEL, 2 for a C1 control in UTF-8 (0xC2 0x80..0x9F; U+009B is a
// one-character CSI to terminals that honour it), 0 for any other byte.
std::size_t control_character_bytes(std::string_view text, std::size_t at);

}  // namespace chaos

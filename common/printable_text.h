// Text from files, clusters and agents on its way to a terminal or into a
// line-based file (a TOML comment, a listing): control characters (C0, DEL
// and UTF-8's C1), which could move the cursor, clear the screen or start a
// new line, become '?'.
#pragma once

#include <string>
#include <string_view>

namespace chaos {

std::string printable_text(std::string_view text);

}  // namespace chaos

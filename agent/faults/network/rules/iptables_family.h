// iptables and ip6tables take the same arguments: one family per pair of
// binaries, so the steering and the read-back loop over the same two.
#pragma once

namespace chaos::agent::network {

struct IptablesFamily {
  const char* restore;
  const char* save;
  const char* mangle_label;  // how messages name the family's mangle table
  int version;
};

inline constexpr IptablesFamily kIptablesFamilies[] = {
    {"iptables-restore", "iptables-save", "iptables mangle", 4},
    {"ip6tables-restore", "ip6tables-save", "ip6tables mangle", 6},
};

inline const IptablesFamily& iptables_family(int version) {
  return version == 6 ? kIptablesFamilies[1] : kIptablesFamilies[0];
}

}  // namespace chaos::agent::network

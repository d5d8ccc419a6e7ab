// The binary form of the fault journal (agent/fault_journal.h): framed
// records in a slot file, and how a slot's bytes are read back.
//
// A record is a 48-byte header (magic "CFJ1", payload length, CRC-32 of the
// rest of the header and the payload, the fault id) and a CBOR payload with
// the spec as binary protobuf: no protobuf-to-JSON on the inject path. The
// fault id sits in the header so that a record whose payload is damaged
// still says which fault it was (kinds can revert a fault from its id).
//
// A slot holds the records of one fault from offset 0, each appended after
// the last; the last complete one wins. All zeros where a header would
// start ends the slot (a freed slot is zeroed), so a record cut short by a
// crash during its append is told apart from the end and skipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/fault_journal.h"
#include "common/status.h"

namespace chaos::agent {

inline constexpr std::size_t kJournalRecordHeaderBytes = 48;
inline constexpr std::size_t kJournalRecordMaxIdBytes = 32;
// A spec and an undo record are kilobytes; more is not ours or damaged.
inline constexpr std::size_t kJournalRecordMaxPayloadBytes = 1 << 20;

// An error when the fault id is empty or longer than 32 bytes, or the
// record is larger than the bound.
StatusOr<std::string> encode_journal_record(const JournalEntry& entry);

struct JournalSlotContents {
  enum class State { kFree, kEntry, kCorrupt };
  State state = State::kFree;
  JournalEntry entry;     // kEntry: from the last complete record
  std::string fault_id;   // kEntry and kCorrupt; for kCorrupt from the header, unchecked
  std::string error;      // kCorrupt: why the first record is unreadable
  std::string warning;    // kEntry: what was skipped after the last complete record
  std::size_t end = 0;    // where the next record goes (after the last complete one)
};

// Never fails: what cannot be read is kCorrupt (first record) or a warning
// (a later one).
JournalSlotContents read_journal_slot(std::string_view bytes);

}  // namespace chaos::agent

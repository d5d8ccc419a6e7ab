#include "agent/journal_record.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace chaos::agent {

namespace {

constexpr std::uint32_t kJournalRecordMagic = 0x314a4643;  // "CFJ1" little-endian
constexpr std::size_t kJournalRecordCrcStart = 12;         // magic, length, then the CRC itself

// CRC-32 (IEEE 802.3, reflected): catches a record cut short or bit rot.
std::uint32_t journal_record_crc(std::string_view a, std::string_view b) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> values{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      values[i] = c;
    }
    return values;
  }();
  std::uint32_t crc = 0xffffffffu;
  for (std::string_view part : {a, b}) {
    for (unsigned char byte : part) crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8);
  }
  return crc ^ 0xffffffffu;
}

void journal_put_u32(std::string& out, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[offset + static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint32_t journal_get_u32(std::string_view in, std::size_t offset) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(in[offset + static_cast<std::size_t>(i)]);
  return value;
}

std::int64_t journal_record_millis(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

StatusOr<JournalEntry> decode_journal_payload(const std::string& fault_id, std::string_view payload) {
  const nlohmann::json json = nlohmann::json::from_cbor(payload.begin(), payload.end(), true, false);
  if (json.is_discarded() || !json.is_object()) return invalid_argument("payload is not a CBOR object");
  try {
    JournalEntry entry;
    entry.fault_id = fault_id;
    entry.kind = json.at("kind").get<std::string>();
    entry.experiment_id = json.at("experiment_id").get<std::string>();
    entry.lease_id = json.at("lease_id").get<std::string>();
    entry.duration = Duration(json.at("duration_ns").get<std::int64_t>());
    const std::string phase = json.at("phase").get<std::string>();
    if (phase != "applying" && phase != "applied") return invalid_argument("unknown phase '" + phase + "'");
    entry.phase = phase == "applied" ? JournalPhase::kApplied : JournalPhase::kApplying;
    entry.undo = json.at("undo");
    entry.recorded_at = WallTime(std::chrono::milliseconds(json.at("recorded_at_unix_ms").get<std::int64_t>()));
    const auto& spec = json.at("spec").get_binary();
    if (!entry.spec.ParseFromArray(spec.data(), static_cast<int>(spec.size()))) {
      return invalid_argument("spec: not a FaultSpec");
    }
    return entry;
  } catch (const nlohmann::json::exception& error) {
    return invalid_argument(error.what());
  }
}

struct JournalRecordRead {
  enum class Result { kEnd, kRecord, kDamaged } result = Result::kEnd;
  std::string fault_id;  // kRecord, and kDamaged when the header got that far
  std::string_view payload;
  std::string error;
  std::size_t size = 0;  // header and payload
};

JournalRecordRead read_journal_record(std::string_view bytes, std::size_t offset) {
  JournalRecordRead read;
  const std::string_view rest = bytes.substr(std::min(offset, bytes.size()));
  const std::string_view header = rest.substr(0, kJournalRecordHeaderBytes);
  if (std::all_of(header.begin(), header.end(), [](char c) { return c == 0; })) return read;  // kEnd
  read.result = JournalRecordRead::Result::kDamaged;
  if (header.size() < kJournalRecordHeaderBytes) {
    read.error = "record header cut short at byte " + std::to_string(offset);
    return read;
  }
  const std::size_t id_length = std::min<std::size_t>(static_cast<unsigned char>(header[12]), kJournalRecordMaxIdBytes);
  read.fault_id = std::string(header.substr(16, id_length));
  if (journal_get_u32(header, 0) != kJournalRecordMagic) {
    read.error = "no record magic at byte " + std::to_string(offset);
    read.fault_id.clear();
    return read;
  }
  const std::uint32_t length = journal_get_u32(header, 4);
  if (length > kJournalRecordMaxPayloadBytes || rest.size() - kJournalRecordHeaderBytes < length) {
    read.error = "record at byte " + std::to_string(offset) + " is cut short (" + std::to_string(length) +
                 " payload bytes announced)";
    return read;
  }
  read.payload = rest.substr(kJournalRecordHeaderBytes, length);
  if (journal_record_crc(header.substr(kJournalRecordCrcStart), read.payload) != journal_get_u32(header, 8)) {
    read.error = "record at byte " + std::to_string(offset) + " fails its CRC";
    return read;
  }
  read.result = JournalRecordRead::Result::kRecord;
  read.size = kJournalRecordHeaderBytes + length;
  return read;
}

}  // namespace

StatusOr<std::string> encode_journal_record(const JournalEntry& entry) {
  if (entry.fault_id.empty() || entry.fault_id.size() > kJournalRecordMaxIdBytes) {
    return invalid_argument("fault id '" + entry.fault_id.substr(0, 64) + "': must be 1 to " +
                            std::to_string(kJournalRecordMaxIdBytes) + " bytes");
  }
  std::string spec;
  if (!entry.spec.SerializeToString(&spec)) return invalid_argument("spec does not serialize");
  const nlohmann::json payload_json = {
      {"kind", entry.kind},
      {"experiment_id", entry.experiment_id},
      {"lease_id", entry.lease_id},
      {"duration_ns", entry.duration.count()},
      {"phase", entry.phase == JournalPhase::kApplied ? "applied" : "applying"},
      {"spec", nlohmann::json::binary(std::vector<std::uint8_t>(spec.begin(), spec.end()))},
      {"undo", entry.undo},
      {"recorded_at_unix_ms", journal_record_millis(entry.recorded_at)},
  };
  std::vector<std::uint8_t> payload = nlohmann::json::to_cbor(payload_json);
  if (payload.size() > kJournalRecordMaxPayloadBytes) {
    return invalid_argument("record of " + std::to_string(payload.size()) + " bytes, the bound is " +
                            std::to_string(kJournalRecordMaxPayloadBytes));
  }
  std::string record(kJournalRecordHeaderBytes, '\0');
  journal_put_u32(record, 0, kJournalRecordMagic);
  journal_put_u32(record, 4, static_cast<std::uint32_t>(payload.size()));
  record[12] = static_cast<char>(entry.fault_id.size());
  std::copy(entry.fault_id.begin(), entry.fault_id.end(), record.begin() + 16);
  record.append(payload.begin(), payload.end());
  const std::string_view view(record);
  journal_put_u32(record, 8,
          journal_record_crc(view.substr(kJournalRecordCrcStart, kJournalRecordHeaderBytes - kJournalRecordCrcStart),
                             view.substr(kJournalRecordHeaderBytes)));
  return record;
}

JournalSlotContents read_journal_slot(std::string_view bytes) {
  JournalSlotContents contents;
  std::size_t offset = 0;
  for (;;) {
    const JournalRecordRead read = read_journal_record(bytes, offset);
    if (read.result == JournalRecordRead::Result::kEnd) break;
    const bool first = contents.state == JournalSlotContents::State::kFree;
    if (read.result == JournalRecordRead::Result::kDamaged) {
      if (first) {
        contents.state = JournalSlotContents::State::kCorrupt;
        contents.fault_id = read.fault_id;
        contents.error = read.error;
      } else {
        contents.warning = "skipped a damaged record after the last complete one (a write cut short): " + read.error;
      }
      break;
    }
    if (!first && read.fault_id != contents.fault_id) {
      contents.warning = "skipped a record of another fault (" + read.fault_id + ") at byte " + std::to_string(offset);
      break;
    }
    StatusOr<JournalEntry> entry = decode_journal_payload(read.fault_id, read.payload);
    if (!entry.ok()) {
      // The CRC held, so this is not a torn write: the record is unreadable.
      if (first) {
        contents.state = JournalSlotContents::State::kCorrupt;
        contents.fault_id = read.fault_id;
        contents.error = entry.status().message();
      } else {
        contents.warning = "skipped an unreadable record at byte " + std::to_string(offset) + ": " +
                           entry.status().message();
      }
      break;
    }
    contents.state = JournalSlotContents::State::kEntry;
    contents.fault_id = read.fault_id;
    contents.entry = std::move(*entry);
    offset += read.size;
    contents.end = offset;
  }
  return contents;
}

}  // namespace chaos::agent

// SPDX-License-Identifier: MIT
// decode and encode: between the binary form (what fuzzers mutate) and the
// text form (what people read), fuzz/program.h.
#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/storage/variant.h"
#include "fuzz/interpreter.h"
#include "fuzz/program.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/flags.h"

namespace reclaimfuzz::cli {

int DecodeMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("decode", args, out, err, &parsed); rc >= 0) return rc;
  if (parsed.positional.size() != 1) {
    err << "reclaimfuzz decode: expected one FILE (usage: reclaimfuzz decode "
           "FILE)\n";
    return kExitUsage;
  }
  absl::StatusOr<fuzz::Program> p = LoadProgram(parsed.positional[0]);
  if (!p.ok()) {
    err << "reclaimfuzz decode: " << p.status().message() << "\n";
    return kExitUsage;
  }
  out << fuzz::FormatText(*p);
  return kExitOk;
}

int EncodeMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("encode", args, out, err, &parsed); rc >= 0) return rc;
  if (parsed.positional.size() != 1) {
    err << "reclaimfuzz encode: expected one FILE (usage: reclaimfuzz encode "
           "FILE -o OUT)\n";
    return kExitUsage;
  }
  const std::string dest = absl::GetFlag(FLAGS_o);
  if (dest.empty()) {
    err << "reclaimfuzz encode: -o OUT is required (the binary form is not for "
           "a terminal)\n";
    return kExitUsage;
  }
  absl::StatusOr<fuzz::Program> p = LoadProgram(parsed.positional[0]);
  if (!p.ok()) {
    err << "reclaimfuzz encode: " << p.status().message() << "\n";
    return kExitUsage;
  }
  const std::vector<uint8_t> bytes = fuzz::EncodeBinary(*p);
  if (absl::Status s = WriteFile(dest, absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      !s.ok()) {
    err << "reclaimfuzz encode: " << s.message() << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace reclaimfuzz::cli

namespace reclaimfuzz::cli {

// variants: the registry, as this build sees it.
int VariantsMain(const Args& args, std::ostream& out, std::ostream& err) {
  Parsed parsed;
  if (int rc = Prologue("variants", args, out, err, &parsed); rc >= 0) return rc;
  if (!parsed.positional.empty()) {
    err << "reclaimfuzz variants: takes no arguments\n";
    return kExitUsage;
  }
  out << absl::StrFormat("%-34s %-6s %-5s %s\n", "variant", "engine", "built", "known findings / about");
  for (storage::Variant v : storage::AllVariants()) {
    const storage::VariantInfo& i = storage::Info(v);
    const bool built = fuzz::VariantBuilt(v);
    out << absl::StrFormat(
        "%-34s %-6s %-5s %s\n", i.name, i.is_tree ? "tree" : "model", built ? "yes" : "no",
        i.known.empty() ? (i.registered ? "none (expected clean)" : "-") : absl::StrJoin(i.known, ","));
    out << absl::StrFormat("%-34s %-6s %-5s   %s\n", "", "", "", i.about);
  }
  // The bug benchmark's variants (patches/bugs/bugs.txt): not engine
  // variants, but --variant takes them.
  if (!storage::BugVariants().empty()) {
    out << "\nbug benchmark (patches/bugs/bugs.txt; bench --bugs):\n";
    out << absl::StrFormat("%-34s %-14s %-5s %s\n", "variant", "class", "built", "expected finding / what it breaks");
    for (storage::Variant v : storage::BugVariants()) {
      const storage::VariantInfo& i = storage::Info(v);
      out << absl::StrFormat("%-34s %-14s %-5s %s\n", i.name, i.bug_class, fuzz::VariantBuilt(v) ? "yes" : "no",
                             absl::StrJoin(i.known, ","));
      out << absl::StrFormat("%-34s %-14s %-5s   %s\n", "", "", "", i.about);
    }
  }
  return kExitOk;
}

}  // namespace reclaimfuzz::cli

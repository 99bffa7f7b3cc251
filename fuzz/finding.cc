// SPDX-License-Identifier: MIT
#include "fuzz/finding.h"

#include <cctype>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/kernel/slab.h"
#include "engine/report/report.h"
#include "nlohmann/json.hpp"

namespace reclaimfuzz::fuzz {
namespace {

using nlohmann::json;

std::string WhereOf1(const Finding& f, const char* key);

bool IsReclamation(const std::string& name) {
  return name == check::kReaderSawFreed || name == check::kEarlyFree || name == check::kUseAfterFree ||
         name == check::kDoubleFree;
}

// Digits made 'N', so that two reports of one bug on other objects agree.
std::string WithoutNumbers(std::string s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!isdigit(static_cast<unsigned char>(s[i]))) continue;
    size_t j = i;
    while (j < s.size() && isdigit(static_cast<unsigned char>(s[j]))) ++j;
    s.replace(i, j - i, "N");
  }
  return s;
}

// What tells the finding apart from another of its name (see finding.h);
// without ',' (RECLAIMFUZZ_IGNORE lists "name@where" entries with commas).
std::string WhereOf(const Finding& f, const char* key) {
  std::string w = WhereOf1(f, key);
  for (char& c : w) {
    if (c == ',') c = ';';
  }
  return w;
}

std::string WhereOf1(const Finding& f, const char* key) {
  if (key != nullptr && key[0] != '\0') return WithoutNumbers(key);
  if (f.object.has_value() && f.object->freed && IsReclamation(f.name) && !f.object->free.function.empty()) {
    return "freed by " + f.object->free.function;
  }
  if (!f.function.empty()) return "in " + f.function;
  std::string detail = f.detail.substr(0, f.detail.find('\n'));
  if (detail.size() > 60) detail = detail.substr(0, 57) + "...";
  return WithoutNumbers(detail);
}

std::string TaskName(const sched::Scheduler& s, int t) { return t >= 0 && t < s.num_tasks() ? s.task(t).name : ""; }

// The finding's own mark in the trace, then the function of the last point
// or note of the same context before it: the function the bad step ran in.
void FunctionAndOp(const std::vector<TraceEvent>& events, const std::vector<std::string>& op_names, Finding* f) {
  int at = -1;
  for (int i = static_cast<int>(events.size()) - 1; i >= 0; --i) {
    const TraceEvent& e = events[i];
    if ((e.kind == sched::EventKind::kNote || e.kind == sched::EventKind::kFinding) && e.label == f->name) {
      at = i;
      break;
    }
  }
  if (at < 0) return;
  const TraceEvent& mark = events[at];
  if (mark.op >= 0 && static_cast<size_t>(mark.op) < op_names.size()) f->op = op_names[mark.op];
  for (int i = at - 1; i >= 0; --i) {
    const TraceEvent& e = events[i];
    if (e.task != mark.task || e.depth != mark.depth) continue;
    if (e.kind != sched::EventKind::kPoint && e.kind != sched::EventKind::kNote) continue;
    if (e.func.empty()) continue;
    f->function = e.func;
    return;
  }
}

json SiteJson(const Site& s) {
  return json{{"function", s.function}, {"step", s.step}, {"task", s.task}, {"depth", s.depth}};
}

Site SiteFrom(const json& j) {
  Site s;
  s.function = j.value("function", "");
  s.step = j.value("step", uint64_t{0});
  s.task = j.value("task", "");
  s.depth = j.value("depth", 0);
  return s;
}

}  // namespace

std::string Finding::Title() const {
  if (!any()) return "none";
  if (absl::StartsWith(where, "in ")) return absl::StrCat(name, " ", where);
  if (where.empty()) return name;
  return absl::StrCat(name, " (", where, ")");
}

std::string Finding::Key() const { return absl::StrCat(variant, "\t", name, "\t", where); }

std::string Execution::Timeline(size_t rows, bool short_form) const {
  std::vector<sched::Event> raw;
  raw.reserve(events.size());
  for (const TraceEvent& e : events) {
    sched::Event r{};
    r.step = e.step;
    r.arg = e.arg;
    r.label = e.label.c_str();
    r.func = e.func.empty() ? nullptr : e.func.c_str();
    r.task = static_cast<int16_t>(e.task);
    r.op = static_cast<int16_t>(e.op);
    r.vcpu = static_cast<int8_t>(e.vcpu);
    r.depth = static_cast<uint8_t>(e.depth);
    r.kind = e.kind;
    raw.push_back(r);
  }
  sched::Trace::TimelineOptions o;
  o.num_vcpus = num_vcpus;
  o.task_names = task_names;
  o.op_names = op_names;
  o.max_rows = rows;
  o.short_form = short_form;
  if (finding.object.has_value()) o.focus_object = finding.object->id;
  if (finding.any()) o.finding = finding.name.c_str();
  return sched::FormatTimeline(raw, o);
}

std::optional<FindingObject> RegistryObject(int64_t id) {
  const kernel::slab::Object* o = kernel::slab::Get(id);
  if (o == nullptr) return std::nullopt;
  const sched::Scheduler& s = LastScheduler();
  FindingObject obj;
  obj.id = o->id;
  obj.type = o->type;
  obj.size = o->size;
  obj.allocator = o->nolock ? "kmalloc_nolock" : "kzalloc";
  obj.alloc = Site{o->alloc_site, o->alloc_step, TaskName(s, o->alloc_task), 0};
  obj.freed = o->freed;
  if (o->freed) obj.free = Site{o->free_site, o->free_step, TaskName(s, o->free_task), o->free_depth};
  return obj;
}

std::optional<FindingObject> RegistryObjectAt(const void* p) {
  return RegistryObject(kernel::slab::IdOfAnyContaining(p));
}

Finding LastFinding(storage::Variant v) {
  Finding f;
  f.variant = storage::VariantName(v);
  const check::Finding* raw = check::LastFinding();
  if (raw == nullptr) return f;
  const sched::Scheduler& s = LastScheduler();
  f.name = raw->name;
  f.detail = raw->detail;
  f.step = raw->step;
  f.task = TaskName(s, raw->task);
  f.vcpu = raw->vcpu;
  f.depth = raw->depth;
  f.object = RegistryObject(raw->object_id);
  // The function and operation of the bad step, from the trace's tail.
  std::vector<TraceEvent> tail;
  const std::vector<sched::Event> events = s.trace().Events();
  const size_t from = events.size() > 4096 ? events.size() - 4096 : 0;
  for (size_t i = from; i < events.size(); ++i) {
    const sched::Event& e = events[i];
    tail.push_back(
        {e.step, e.arg, e.label ? e.label : "", e.func ? e.func : "", e.kind, e.task, e.op, e.vcpu, e.depth});
  }
  FunctionAndOp(tail, {}, &f);
  f.where = WhereOf(f, raw->key);
  return f;
}

Execution CaptureLastRun(const Program& p, const RunResult& r, storage::Variant v) {
  Execution out;
  const sched::Scheduler& s = LastScheduler();
  out.variant = storage::VariantName(v);
  out.settings = check::ReportSettings();
  out.program_text = FormatText(p);
  out.status = r.status;
  out.steps = r.steps;
  out.trace_hash = r.trace_hash;
  out.decisions = s.schedule().size();
  out.num_vcpus = s.num_vcpus();
  out.task_names = s.TaskNames();
  out.op_names = OpNames(p);
  for (const sched::Event& e : s.trace().Events()) {
    out.events.push_back(
        {e.step, e.arg, e.label ? e.label : "", e.func ? e.func : "", e.kind, e.task, e.op, e.vcpu, e.depth});
  }
  out.total_events = s.trace().total();
  if (r.finding != "none") {
    out.finding = LastFinding(v);
    FunctionAndOp(out.events, out.op_names, &out.finding);
    const check::Finding* raw = check::LastFinding();
    out.finding.where = WhereOf(out.finding, raw != nullptr ? raw->key : nullptr);
  } else {
    out.finding.variant = out.variant;
  }
  return out;
}

std::string ExecutionToJson(const Execution& e) {
  json j;
  j["variant"] = e.variant;
  j["settings"] = e.settings;
  j["program"] = e.program_text;
  const Finding& f = e.finding;
  json fj{{"name", f.name},         {"source", f.source}, {"variant", f.variant}, {"where", f.where},
          {"function", f.function}, {"op", f.op},         {"step", f.step},       {"task", f.task},
          {"vcpu", f.vcpu},         {"depth", f.depth},   {"detail", f.detail}};
  if (f.object.has_value()) {
    const FindingObject& o = *f.object;
    fj["object"] = json{{"id", o.id},
                        {"type", o.type},
                        {"size", o.size},
                        {"allocator", o.allocator},
                        {"alloc", SiteJson(o.alloc)},
                        {"freed", o.freed},
                        {"free", SiteJson(o.free)}};
  }
  j["finding"] = std::move(fj);
  j["status"] = sched::RunStatusName(e.status);
  j["steps"] = e.steps;
  j["trace_hash"] = e.trace_hash;
  j["decisions"] = e.decisions;
  j["num_vcpus"] = e.num_vcpus;
  j["task_names"] = e.task_names;
  j["op_names"] = e.op_names;
  json ev = json::array();
  for (const TraceEvent& t : e.events) {
    ev.push_back(
        json::array({t.step, t.arg, t.label, t.func, static_cast<int>(t.kind), t.task, t.op, t.vcpu, t.depth}));
  }
  j["events"] = std::move(ev);
  j["total_events"] = e.total_events;
  return j.dump();
}

absl::StatusOr<Execution> ExecutionFromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  try {
    Execution e;
    e.variant = j.value("variant", "");
    e.settings = j.value("settings", "");
    e.program_text = j.value("program", "");
    if (j.contains("finding")) {
      const json& fj = j.at("finding");
      Finding& f = e.finding;
      f.name = fj.value("name", "none");
      f.source = fj.value("source", "oracle");
      f.variant = fj.value("variant", e.variant);
      f.where = fj.value("where", "");
      f.function = fj.value("function", "");
      f.op = fj.value("op", "");
      f.step = fj.value("step", uint64_t{0});
      f.task = fj.value("task", "");
      f.vcpu = fj.value("vcpu", -1);
      f.depth = fj.value("depth", 0);
      f.detail = fj.value("detail", "");
      if (fj.contains("object")) {
        const json& oj = fj.at("object");
        FindingObject o;
        o.id = oj.value("id", int64_t{-1});
        o.type = oj.value("type", "");
        o.size = oj.value("size", uint64_t{0});
        o.allocator = oj.value("allocator", "");
        if (oj.contains("alloc")) o.alloc = SiteFrom(oj.at("alloc"));
        o.freed = oj.value("freed", false);
        if (oj.contains("free")) o.free = SiteFrom(oj.at("free"));
        f.object = std::move(o);
      }
    }
    const std::string status = j.value("status", "completed");
    for (sched::RunStatus st : {sched::RunStatus::kCompleted, sched::RunStatus::kHang, sched::RunStatus::kBudget,
                                sched::RunStatus::kAbandoned}) {
      if (status == sched::RunStatusName(st)) e.status = st;
    }
    e.steps = j.value("steps", uint64_t{0});
    e.trace_hash = j.value("trace_hash", uint64_t{0});
    e.decisions = j.value("decisions", uint64_t{0});
    e.num_vcpus = j.value("num_vcpus", 1);
    if (j.contains("task_names")) e.task_names = j.at("task_names").get<std::vector<std::string>>();
    if (j.contains("op_names")) e.op_names = j.at("op_names").get<std::vector<std::string>>();
    if (j.contains("events")) {
      for (const json& t : j.at("events")) {
        if (!t.is_array() || t.size() != 9) return absl::InvalidArgumentError("an event is not a 9-element array");
        TraceEvent ev;
        ev.step = t[0].get<uint64_t>();
        ev.arg = t[1].get<int64_t>();
        ev.label = t[2].get<std::string>();
        ev.func = t[3].get<std::string>();
        const int kind = t[4].get<int>();
        if (kind < 0 || kind > static_cast<int>(sched::EventKind::kFinding)) {
          return absl::InvalidArgumentError(absl::StrCat("unknown event kind ", kind));
        }
        ev.kind = static_cast<sched::EventKind>(kind);
        ev.task = t[5].get<int>();
        ev.op = t[6].get<int>();
        ev.vcpu = t[7].get<int>();
        ev.depth = t[8].get<int>();
        e.events.push_back(std::move(ev));
      }
    }
    e.total_events = j.value("total_events", uint64_t{e.events.size()});
    return e;
  } catch (const json::exception& ex) {
    return absl::InvalidArgumentError(absl::StrCat("bad execution JSON: ", ex.what()));
  }
}

std::string SanitizerFindingName(const std::string& tool, const std::string& kind) {
  if (tool == "tsan") return check::kDataRace;
  if (kind == "heap-use-after-free" || kind == "use-after-poison" || kind == "stack-use-after-return") {
    return check::kUseAfterFree;
  }
  if (kind == "double-free" || kind == "attempting double-free") return check::kDoubleFree;
  std::string k = kind;
  for (char& c : k) {
    if (c == ' ') c = '-';
  }
  return absl::StrCat(tool, ":", k.empty() ? "crash" : k);
}

}  // namespace reclaimfuzz::fuzz

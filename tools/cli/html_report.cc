// SPDX-License-Identifier: MIT
#include "tools/cli/html_report.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "tools/cli/common.h"

namespace reclaimfuzz::cli {
namespace {

// Inline style. Lanes are columns, time runs down; one row per shown event.
constexpr char kCss[] = R"CSS(
:root { --row: 18px; --indent: 16px; font: 13px/1.35 system-ui, sans-serif; color: #1d2430; }
body { margin: 0; background: #f6f7f9; }
header { padding: 14px 20px 10px; background: #fff; border-bottom: 1px solid #d5d9e0; }
h1 { font-size: 19px; margin: 0 0 8px; }
h1 .finding { color: #b3261e; }
h1 .finding.none { color: #2e7d32; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.facts dt { color: #5b6473; }
dl.facts dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; padding: 8px 20px; font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 11px; height: 11px; margin-right: 5px;
  vertical-align: -1px; border-radius: 2px; background: var(--c); border: 1px solid rgba(0,0,0,.25); }
details { padding: 4px 20px; }
details pre { background: #fff; border: 1px solid #d5d9e0; padding: 8px; overflow: auto; font-size: 11.5px; }
#timeline { margin: 6px 20px 30px; background: #fff; border: 1px solid #d5d9e0; }
.lane-heads { display: flex; position: sticky; top: 0; z-index: 5; background: #eef1f5; border-bottom: 1px solid #c9ced8; }
.lane-head, .gutter-head { font-weight: 600; padding: 4px 8px; }
.gutter-head, .gutter { width: 52px; flex: none; text-align: right; color: #5b6473; }
.lane-head, section.lane { flex: 1 1 0; min-width: 300px; border-left: 1px solid #d5d9e0; }
.lane-head .sub { font-weight: 400; color: #5b6473; margin-left: 6px; }
.lane-bodies { display: flex; position: relative; }
.gutter { position: relative; font-family: ui-monospace, monospace; font-size: 11px; }
.gutter div { position: absolute; right: 6px; height: var(--row); line-height: var(--row); }
section.lane { position: relative; }
section.lane.housekeeping { background: #fafbfc; }
.segment { position: absolute; left: 2px; right: 2px; border-radius: 4px; background: hsl(var(--h) 40% 95%);
  border-left: 4px solid hsl(var(--h) 55% 48%); }
.segment .tag { position: absolute; right: 4px; top: 1px; font-size: 10.5px; color: hsl(var(--h) 55% 30%); font-weight: 600; }
.irq { position: absolute; right: 4px; border-radius: 4px; border: 1.5px solid; }
.irq.hardirq { background: rgba(255, 193, 7, .16); border-color: #d39e00; }
.irq.nmi { background: rgba(156, 39, 176, .12); border-color: #8e24aa; }
.irq .tag { position: absolute; right: 4px; bottom: 0; font-size: 10.5px; font-weight: 600; }
.irq.hardirq .tag { color: #8a6500; } .irq.nmi .tag { color: #6a1b9a; }
.event { position: absolute; right: 6px; height: calc(var(--row) - 2px); line-height: calc(var(--row) - 2px);
  padding: 0 5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-family: ui-monospace, monospace;
  font-size: 11.5px; border-radius: 3px; z-index: 2; }
.event .who { color: #5b6473; margin-right: 5px; }
.event.point { color: #4a5260; }
.event.op { color: #1a237e; font-weight: 600; }
.event.sched { color: #37474f; font-style: italic; }
.event.lock { background: #e3f2fd; color: #0d47a1; border: 1px solid #90caf9; }
.event.rcu-read { background: #e8f5e9; color: #1b5e20; border: 1px solid #a5d6a7; }
.event.call-rcu, .event.defer { background: #f1f8e9; color: #33691e; }
.event.alloc { background: #e0f7fa; color: #006064; }
.event.unlink { background: #fff3e0; color: #e65100; border: 1px solid #ffb74d; font-weight: 600; }
.event.gp-start { color: #00695c; }
.event.gp-end { background: #e0f2f1; color: #004d40; border: 1px solid #4db6ac; font-weight: 600; }
.event.free { background: #fce4ec; color: #880e4f; border: 1px solid #f48fb1; font-weight: 600; }
.event.irq-enter, .event.irq-exit, .event.irq-pending { color: #6d4c41; font-weight: 600; }
.event.lock-error { background: #fff8e1; color: #bf360c; border: 1px solid #ffb300; }
.event.finding-object { box-shadow: inset 0 0 0 1.5px #c2185b; }
.event.bad-access { background: #b3261e; color: #fff; border: 1px solid #7f1d18; font-weight: 700; z-index: 3; }
.event.bad-access .who { color: #ffd9d6; }
.rule { position: absolute; left: 52px; right: 0; height: 0; border-top: 1.5px dashed; z-index: 1; pointer-events: none; }
.rule.gp-end { border-color: #4db6ac; }
.rule.bad-access { border-top: 2px solid #b3261e; }
.rule span { position: absolute; left: 4px; top: -14px; font-size: 10px; background: #fff; padding: 0 3px; }
.rule.gp-end span { color: #00695c; } .rule.bad-access span { color: #b3261e; font-weight: 700; }
.norender { margin: 10px 20px; color: #b3261e; }
)CSS";

// Builds the lanes from #trace-data. Only textContent and attributes: no
// markup is ever parsed from the data.
constexpr char kJs[] = R"JS(
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const ROW = 18, INDENT = 16;
  const root = document.getElementById('timeline');
  const nv = data.numVcpus;
  const laneOf = (v) => (v >= 0 && v < nv) ? v : -1;
  const taskName = (t) => (t >= 0 && t < data.tasks.length) ? data.tasks[t] : 'main';
  const who = (e) => e.depth === 2 ? 'NMI' : e.depth === 1 ? 'IRQ' : taskName(e.task);
  const el = (tag, cls, text) => {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  };
  // Unpack [step, kind, task, vcpu, depth, arg, label, classes, function, op].
  const events = data.events.map((a) => ({ step: a[0], kind: a[1], task: a[2], vcpu: a[3], depth: a[4],
                                           arg: a[5], label: a[6], cls: a[7], fn: a[8], op: a[9] }));
  // The function of each context: a point names it; others inherit it.
  const fnOf = {};
  const opOf = {};
  for (const e of events) {
    const k = e.task + '/' + e.depth;
    if (e.fn) fnOf[k] = e.fn; else if ((e.kind === 'point' || e.kind === 'note') && fnOf[k]) e.fn = fnOf[k];
  }
  // Rows: one per event, except that a run of plain preemption points of one
  // context folds into one row (as the text timeline does).
  const items = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const k = e.task + '/' + e.depth;
    if (e.op >= 0 && opOf[k] !== e.op && e.kind !== 'irq-exit' && e.op < data.ops.length) {
      opOf[k] = e.op;
      const t = '\u25b8 ' + data.ops[e.op];
      items.push({ e: e, cls: 'op', n: 1, text: t, title: 'step ' + e.step + ': ' + who(e) + ' starts ' + data.ops[e.op] });
    }
    const plain = e.cls === 'point';
    if (plain) {
      let j = i;
      const labels = [e.label];
      while (j + 1 < events.length && events[j + 1].cls === 'point' && events[j + 1].task === e.task &&
             events[j + 1].vcpu === e.vcpu && events[j + 1].depth === e.depth && events[j + 1].op === e.op &&
             events[j + 1].fn === e.fn) {
        j++;
        labels.push(events[j].label);
      }
      const n = j - i + 1;
      const fn = e.fn ? e.fn + ': ' : '';
      items.push({ e: e, cls: 'point', n: n, text: fn + (n > 1 ? '\u00d7' + n + ' ' : '') + labels.join(', '),
                   title: 'steps ' + e.step + '-' + events[j].step + ': ' + fn + labels.join(', ') });
      i = j;
      continue;
    }
    let text;
    switch (e.kind) {
      case 'irq-enter': text = '\u25b6 ' + (e.depth === 2 ? 'NMI' : 'hardirq') + ' program ' + e.label +
                               ' interrupts ' + taskName(e.task); break;
      case 'irq-exit': text = '\u25c0 ' + (e.depth === 2 ? 'NMI' : 'hardirq') + ' returns'; break;
      case 'irq-pending': text = 'hardirq held (IRQs off): ' + e.label; break;
      case 'run': case 'preempt': case 'block': case 'wake': case 'done':
        text = e.kind + (e.label && e.label !== e.kind ? ': ' + e.label : ''); break;
      default: text = (e.fn ? e.fn + ': ' : '') + e.label + (e.arg !== 0 ? ' #' + e.arg : '');
    }
    if (e.cls.split(' ').includes('bad-access')) text = '\u2716 ' + text + ' \u2014 ' + data.title;
    items.push({ e: e, cls: e.cls, n: 1, text: text, title: 'step ' + e.step + ': ' + text });
  }
  items.forEach((it, r) => { it.row = r; it.lane = laneOf(it.e.vcpu); });
  const rows = items.length;

  root.textContent = '';
  root.dataset.vcpus = String(nv);
  root.dataset.events = String(events.length);
  root.dataset.rows = String(rows);
  const heads = el('div', 'lane-heads');
  heads.appendChild(el('div', 'gutter-head', 'step'));
  const bodies = el('div', 'lane-bodies');
  bodies.style.height = (rows * ROW + 8) + 'px';
  const gutter = el('div', 'gutter');
  let lastStep = -1;
  for (const it of items) {
    if (it.e.step === lastStep) continue;
    lastStep = it.e.step;
    const g = el('div', '', String(it.e.step));
    g.style.top = (it.row * ROW) + 'px';
    gutter.appendChild(g);
  }
  bodies.appendChild(gutter);

  const laneIds = [];
  for (let v = 0; v < nv; v++) laneIds.push(v);
  laneIds.push(-1);
  for (const v of laneIds) {
    const mine = items.filter((it) => it.lane === v);
    const head = el('div', 'lane-head', v >= 0 ? 'cpu' + v : 'housekeeping');
    head.dataset.vcpu = String(v);
    head.appendChild(el('span', 'sub', v >= 0 ? 'vCPU ' + v : 'GP kthreads, main'));
    heads.appendChild(head);
    const lane = el('section', v >= 0 ? 'lane' : 'lane housekeeping');
    lane.dataset.vcpu = String(v);
    lane.dataset.lane = v >= 0 ? 'cpu' + v : 'housekeeping';
    // Task segments: maximal runs of one task's items on this lane.
    let seg = null;
    const closeSeg = () => {
      if (!seg) return;
      const d = el('div', 'segment');
      d.dataset.vcpu = String(v);
      d.dataset.task = taskName(seg.task);
      d.style.setProperty('--h', String((seg.task * 67 + 200) % 360));
      d.style.top = (seg.from * ROW) + 'px';
      d.style.height = ((seg.to - seg.from + 1) * ROW) + 'px';
      d.title = taskName(seg.task) + ' on ' + (v >= 0 ? 'cpu' + v : 'housekeeping') + ', steps ' +
                seg.s0 + '-' + seg.s1;
      d.appendChild(el('span', 'tag', taskName(seg.task)));
      lane.appendChild(d);
      seg = null;
    };
    // Interrupt handlers: nested blocks, opened at entry, closed at exit
    // (or at the lane's last row when the run stopped inside one).
    const open = [];
    const closeIrq = (b, to) => {
      const d = el('div', 'irq ' + (b.depth === 2 ? 'nmi' : 'hardirq'));
      d.dataset.vcpu = String(v);
      d.dataset.depth = String(b.depth);
      d.dataset.task = taskName(b.task);
      d.style.top = (b.from * ROW - 1) + 'px';
      d.style.height = ((to - b.from + 1) * ROW + 2) + 'px';
      d.style.left = (2 + (b.depth - 1) * INDENT + 8) + 'px';
      d.appendChild(el('span', 'tag', (b.depth === 2 ? 'NMI ' : 'hardirq ') + b.name + ' on ' + taskName(b.task)));
      lane.appendChild(d);
    };
    let lastRow = 0;
    for (const it of mine) {
      const e = it.e;
      if (!seg || seg.task !== e.task) {
        closeSeg();
        seg = { task: e.task, from: it.row, to: it.row, s0: e.step, s1: e.step };
      }
      seg.to = it.row;
      seg.s1 = e.step;
      // A handler whose exit was not traced ends where a shallower context shows up.
      while (open.length > 0 && open[open.length - 1].depth > e.depth) closeIrq(open.pop(), it.row - 1);
      if (e.kind === 'irq-enter') {
        open.push({ depth: e.depth, from: it.row, name: e.label, task: e.task });
      } else if (e.depth > 0 && !open.some((b) => b.depth === e.depth)) {
        open.push({ depth: e.depth, from: it.row, name: '', task: e.task });  // entry not retained
      }
      if (e.kind === 'irq-exit') {
        while (open.length > 0 && open[open.length - 1].depth >= e.depth) closeIrq(open.pop(), it.row);
      }
      const d = el('div', 'event ' + it.cls);
      if (it.cls.split(' ').includes('bad-access') && !document.getElementById('bad-access')) d.id = 'bad-access';
      d.dataset.vcpu = String(v);
      d.dataset.step = String(e.step);
      d.dataset.kind = e.kind;
      d.dataset.depth = String(e.depth);
      d.dataset.task = taskName(e.task);
      if (it.n > 1) d.dataset.folded = String(it.n);
      d.style.top = (it.row * ROW + 1) + 'px';
      d.style.left = (6 + e.depth * INDENT + (e.depth > 0 ? 8 : 0)) + 'px';
      d.title = it.title;
      d.appendChild(el('span', 'who', who(e)));
      d.appendChild(document.createTextNode(it.text));
      lane.appendChild(d);
      lastRow = it.row;
    }
    closeSeg();
    while (open.length > 0) closeIrq(open.pop(), lastRow);
    bodies.appendChild(lane);
  }
  // Rules across every lane: grace-period ends and the finding.
  for (const it of items) {
    const c = it.cls.split(' ');
    const kind = c.includes('bad-access') ? 'bad-access' : c.includes('gp-end') ? 'gp-end' : '';
    if (!kind) continue;
    const d = el('div', 'rule ' + kind);
    d.style.top = (it.row * ROW + (kind === 'bad-access' ? ROW : 0)) + 'px';
    d.appendChild(el('span', '', kind === 'bad-access' ? data.finding + ' at step ' + it.e.step
                                                      : it.text + ' (step ' + it.e.step + ')'));
    bodies.appendChild(d);
  }
  root.appendChild(heads);
  root.appendChild(bodies);
  root.dataset.rendered = '1';
  if (location.hash === '#bad-access') {
    const b = document.getElementById('bad-access');
    if (b) b.scrollIntoView({ block: 'center' });
  }
})();
)JS";

bool Contains(absl::string_view s, absl::string_view part) { return absl::StrContains(s, part); }

// Points worth a row of their own (not folded with their neighbours).
std::string PointClasses(absl::string_view label) {
  if (Contains(label, "spin_lock") || Contains(label, "spin_unlock") || Contains(label, "spin_trylock")) {
    std::string c = "point lock";
    if (Contains(label, "unlock")) c += " unlock";
    if (absl::EndsWith(label, " spin")) c += " spin";
    return c;
  }
  if (absl::StartsWith(label, "rcu_read_")) return "point rcu-read";
  if (absl::StartsWith(label, "call_rcu")) return "point call-rcu";
  if (absl::StartsWith(label, "local_irq_")) return "point irq-state";
  if (label == "queue_work_on" || label == "irq_work_queue") return "point defer";
  return "point";
}

const char* FindingContext(int depth) { return depth == 2 ? " (NMI)" : depth == 1 ? " (hardirq)" : ""; }

void Fact(std::string* out, absl::string_view name, absl::string_view value, absl::string_view cls = "") {
  absl::StrAppend(out, "<dt>", HtmlEscape(name), "</dt><dd", cls.empty() ? "" : " class=\"", HtmlEscape(cls),
                  cls.empty() ? "" : "\"", ">", HtmlEscape(value), "</dd>\n");
}

std::string ScriptSafe(const std::string& json);

// The page's data (read by kJs), with nlohmann-json.
std::string Json(const ReplayResult& r) {
  nlohmann::json j;
  j["variant"] = r.variant;
  j["source"] = r.source;
  j["finding"] = r.finding.name;
  j["title"] = r.finding.Title();
  j["detail"] = r.finding.detail;
  j["findingStep"] = r.finding.step;
  j["findingVcpu"] = r.finding.vcpu;
  j["findingDepth"] = r.finding.depth;
  j["objectId"] = r.finding.object ? r.finding.object->id : -1;
  j["numVcpus"] = r.num_vcpus;
  j["totalEvents"] = r.total_events;
  j["tasks"] = r.task_names;
  j["ops"] = r.op_names;
  nlohmann::json events = nlohmann::json::array();
  for (const fuzz::TraceEvent& e : r.events) {
    events.push_back(nlohmann::json::array({e.step, sched::EventKindName(e.kind), e.task, e.vcpu, e.depth, e.arg,
                                            e.label, EventClasses(e, r), e.func, e.op}));
  }
  j["events"] = std::move(events);
  return ScriptSafe(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// nlohmann-json's text, made safe inside <script>: '<', '>' and '&' (which
// "</script" or "<!--" would need), DEL, and U+2028/U+2029 (line terminators to
// older JavaScript) as \u escapes, which occur only inside JSON strings.
std::string ScriptSafe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(json[i]);
    if (c == '<' || c == '>' || c == '&' || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else if (c == 0xe2 && i + 2 < json.size() && static_cast<unsigned char>(json[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(json[i + 2]) == 0xa8 || static_cast<unsigned char>(json[i + 2]) == 0xa9)) {
      absl::StrAppendFormat(&out, "\\u%04x", 0x2000 + (static_cast<unsigned char>(json[i + 2]) - 0x80));
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string JsonString(absl::string_view s) {
  return ScriptSafe(nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string EventClasses(const fuzz::TraceEvent& e, const ReplayResult& r) {
  using sched::EventKind;
  const bool on_object = r.finding.object && e.arg == r.finding.object->id && e.arg >= 0;
  switch (e.kind) {
    case EventKind::kPoint:
      return PointClasses(e.label);
    case EventKind::kRun:
    case EventKind::kPreempt:
    case EventKind::kBlock:
    case EventKind::kWake:
    case EventKind::kDone:
      return absl::StrCat("sched ", sched::EventKindName(e.kind));
    case EventKind::kIrqPending:
    case EventKind::kIrqEnter:
    case EventKind::kIrqExit:
      return sched::EventKindName(e.kind);
    case EventKind::kFinding:
      return "bad-access";
    case EventKind::kNote:
      break;
  }
  // check::Report() notes the finding by name on its object, at its step.
  if (r.finding.any() && e.label == r.finding.name && e.step == r.finding.step)
    return on_object ? "bad-access finding-object" : "bad-access";
  std::string c;
  const absl::string_view l = e.label;
  if (l == "kzalloc" || l == "kmalloc_nolock") {
    c = "note alloc";
  } else if (l == "kfree" || l == "kfree_nolock") {
    c = "note free";
  } else if (l == "unlinked") {
    c = "note unlink";
  } else if (absl::EndsWith(l, "GP end")) {
    c = "note gp-end";
  } else if (absl::EndsWith(l, "GP start")) {
    c = "note gp-start";
  } else if (absl::StartsWith(l, "rqspinlock ")) {
    c = "note lock lock-error";
  } else {
    c = "note";
  }
  if (on_object) c += " finding-object";
  return c;
}

std::string RenderHtmlReport(const ReplayResult& r) {
  const std::string& variant = r.variant;
  const fuzz::Finding& f = r.finding;
  const bool found = f.any();
  std::string out;
  absl::StrAppend(&out,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
                  HtmlEscape(absl::StrCat("reclaimfuzz: ", f.Title(), " on ", variant)), "</title>\n<style>", kCss,
                  "</style>\n</head>\n<body>\n<header>\n<h1>reclaimfuzz: <span class=\"finding", found ? "" : " none",
                  "\" id=\"finding\">", HtmlEscape(f.name), "</span> on <span id=\"variant\">", HtmlEscape(variant),
                  "</span></h1>\n<dl class=\"facts\">\n");
  Fact(&out, "finding", f.Title());
  if (found) {
    std::string where = absl::StrCat("step ", f.step);
    if (!f.task.empty()) absl::StrAppend(&where, " in ", f.task, FindingContext(f.depth));
    if (f.vcpu >= 0) absl::StrAppend(&where, " on cpu", f.vcpu);
    Fact(&out, "first bad step", where);
    if (!f.function.empty()) Fact(&out, "function", f.function);
    if (!f.op.empty()) Fact(&out, "operation", f.op);
    Fact(&out,
         f.source == "oracle"
             ? "what the oracle saw"
             : absl::StrCat("what ", f.source == "asan" ? "AddressSanitizer" : "ThreadSanitizer", " saw"),
         f.detail);
    if (!r.needs.empty()) Fact(&out, "settings needed", r.needs);
  }
  Fact(&out, "variant", variant);
  if (!r.source.empty()) Fact(&out, "input", r.source);
  if (f.object) {
    const fuzz::FindingObject& o = *f.object;
    Fact(&out, "object", absl::StrFormat("%s #%d (%d bytes, %s)", o.type, o.id, o.size, o.allocator));
    Fact(&out, "allocated", absl::StrFormat("by %s at step %d in %s", o.alloc.function, o.alloc.step, o.alloc.task),
         "alloc-site");
    Fact(&out, "freed",
         o.freed ? absl::StrFormat("by %s at step %d in %s%s", o.free.function, o.free.step, o.free.task,
                                   FindingContext(o.free.depth))
                 : std::string("still live"),
         "free-site");
  }
  Fact(&out, "run",
       absl::StrFormat("%s after %d steps, %d vCPUs, %d scheduling decisions, trace hash %016x",
                       sched::RunStatusName(r.status), r.steps, r.num_vcpus, r.decisions, r.trace_hash));
  if (r.total_events > r.events.size()) {
    Fact(&out, "trace",
         absl::StrFormat("the newest %d of %d events (the trace keeps a ring)", r.events.size(), r.total_events));
  }
  Fact(&out, "replay", ReplayCommand(variant, r.source.empty() ? "FILE" : r.source));
  absl::StrAppend(&out, "</dl>\n</header>\n");

  struct Swatch {
    const char* name;
    const char* color;
  };
  static constexpr Swatch kLegend[] = {
      {"task segment", "hsl(200 70% 93%)"},
      {"hardirq", "rgba(255,193,7,.3)"},
      {"NMI", "rgba(156,39,176,.25)"},
      {"lock op", "#e3f2fd"},
      {"RCU reader", "#e8f5e9"},
      {"alloc", "#e0f7fa"},
      {"unlink", "#fff3e0"},
      {"grace period end", "#e0f2f1"},
      {"free", "#fce4ec"},
      {"bad access (finding)", "#b3261e"},
  };
  absl::StrAppend(&out, "<div class=\"legend\">");
  for (const Swatch& s : kLegend)
    absl::StrAppend(&out, "<span style=\"--c: ", s.color, "\">", HtmlEscape(s.name), "</span>");
  absl::StrAppend(&out,
                  "<span>time runs down; one row per event, runs of plain preemption points "
                  "folded (\xc3\x97N); hover for details</span></div>\n");

  absl::StrAppend(&out,
                  "<div id=\"timeline\" data-rendered=\"0\"><p class=\"norender\">"
                  "The swimlanes are drawn by the page's script; the text report below "
                  "holds the same timeline.</p></div>\n");
  absl::StrAppend(&out, "<details><summary>text report (as <code>replay</code> prints it)</summary><pre>",
                  HtmlEscape(r.text), "</pre></details>\n");
  absl::StrAppend(&out, "<details><summary>program (text form, as run)</summary><pre>", HtmlEscape(r.program_text),
                  "</pre></details>\n");
  absl::StrAppend(&out, "<script type=\"application/json\" id=\"trace-data\">", Json(r), "</script>\n");
  absl::StrAppend(&out, "<script>", kJs, "</script>\n</body>\n</html>\n");
  return out;
}

absl::Status WriteHtmlReport(const ReplayResult& r, const std::string& path) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  if (absl::Status s = WriteFile(tmp, RenderHtmlReport(r)); !s.ok()) {
    // Name the file asked for, not the temporary one.
    return absl::Status(s.code(), absl::StrReplaceAll(s.message(), {{tmp, path}}));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", why));
  }
  return absl::OkStatus();
}

}  // namespace reclaimfuzz::cli

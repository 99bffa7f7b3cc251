#!/usr/bin/env python3
"""Checks the continuous-fuzzing files: OSS-Fuzz (tools/oss-fuzz/),
ClusterFuzzLite (.clusterfuzzlite/) and its GitHub Actions workflows
(.github/workflows/cflite_*.yml).

  ci_files_test.py ROOT              check the files under ROOT
  ci_files_test.py --self-test ROOT  break copies of them in known ways and
                                     check that each break is caught

Every YAML file must parse; the project files must name c++, the sanitizers
and engines build.sh supports; the Dockerfiles must start from OSS-Fuzz's
base builder and put the sources where build.sh looks; build.sh may read no
environment variable but OSS-Fuzz's; the workflows must use the
ClusterFuzzLite actions at @v1 with the four modes (code-change on pull
requests, batch on a schedule, prune, coverage with the coverage sanitizer);
the .options files must parse as ClusterFuzz reads them and the dictionary
as libFuzzer reads it. Prints one line per problem and exits 1 if there is
any.
"""
import configparser
import os
import re
import shutil
import sys
import tempfile

import yaml

OSS_FUZZ_ENGINES = {"libfuzzer", "afl", "honggfuzz", "centipede"}
OSS_FUZZ_SANITIZERS = {"address", "undefined", "memory"}
# What tools/oss-fuzz/check_build.sh builds and runs.
SUPPORTED_ENGINES = {"libfuzzer", "afl"}
SUPPORTED_SANITIZERS = {"address", "undefined"}
CFLITE_MODES = {"code-change", "batch", "prune", "coverage"}
CFLITE_BUILD = "google/clusterfuzzlite/actions/build_fuzzers@v1"
CFLITE_RUN = "google/clusterfuzzlite/actions/run_fuzzers@v1"
# The environment OSS-Fuzz's compile gives build.sh (and bash's own).
BUILD_ENV = {"CC", "CXX", "CFLAGS", "CXXFLAGS", "LIB_FUZZING_ENGINE", "OUT", "SRC",
             "WORK", "SANITIZER", "FUZZING_ENGINE", "BASH_SOURCE"}
OPTIONS_SECTIONS = {"libfuzzer", "afl", "honggfuzz", "asan", "msan", "ubsan", "hwasan", "env"}


class Checker:
    def __init__(self, root):
        self.root = root
        self.problems = []

    def problem(self, path, message):
        self.problems.append(f"{os.path.relpath(path, self.root)}: {message}")

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def read(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            self.problem(path, f"cannot read ({e.strerror})")
            return None

    def load_yaml(self, path):
        text = self.read(path)
        if text is None:
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            self.problem(path, f"not valid YAML: {str(e).splitlines()[0]}")
            return None
        if not isinstance(data, dict):
            self.problem(path, "is not a YAML mapping")
            return None
        return data

    # --- project.yaml -------------------------------------------------------
    def check_project_yaml(self, path, oss_fuzz):
        data = self.load_yaml(path)
        if data is None:
            return None
        if data.get("language") != "c++":
            self.problem(path, f"language is {data.get('language')!r}, not 'c++'")
        if not oss_fuzz:
            return data
        for key in ("homepage", "main_repo"):
            value = data.get(key)
            if not isinstance(value, str) or not value.startswith("https://"):
                self.problem(path, f"{key} must be an https URL (got {value!r})")
        if not isinstance(data.get("primary_contact"), str) or "@" not in data["primary_contact"]:
            self.problem(path, "primary_contact must be an e-mail address")
        for key, known, supported in (("fuzzing_engines", OSS_FUZZ_ENGINES, SUPPORTED_ENGINES),
                                      ("sanitizers", OSS_FUZZ_SANITIZERS, SUPPORTED_SANITIZERS)):
            values = data.get(key)
            if not isinstance(values, list):
                self.problem(path, f"{key} must be a list")
                continue
            unknown = set(values) - known
            if unknown:
                self.problem(path, f"{key}: unknown to OSS-Fuzz: {sorted(unknown)}")
            if set(values) != supported:
                self.problem(path, f"{key} must be {sorted(supported)}, what check_build.sh "
                                   f"verifies (got {values})")
        return data

    # --- Dockerfile ---------------------------------------------------------
    def dockerfile_lines(self, path):
        text = self.read(path)
        if text is None:
            return []
        text = re.sub(r"\\\n", " ", text)
        return [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]

    def check_dockerfile(self, path, cflite, main_repo=None):
        lines = self.dockerfile_lines(path)
        if not lines:
            self.problem(path, "is empty")
            return
        if not re.match(r"FROM gcr\.io/oss-fuzz-base/base-builder(:v1)?$", lines[0]):
            self.problem(path, f"must start FROM gcr.io/oss-fuzz-base/base-builder (got {lines[0]!r})")
        joined = "\n".join(lines)
        for dep, url in (("abseil-cpp", "https://github.com/abseil/abseil-cpp.git"),
                         ("googletest", "https://github.com/google/googletest.git")):
            if not re.search(rf"git clone .*{re.escape(url)} \$SRC/{dep}\b", joined):
                self.problem(path, f"must clone {url} into $SRC/{dep} (build.sh builds it from there)")
        if "WORKDIR $SRC/reclaimfuzz" not in lines:
            self.problem(path, "must have WORKDIR $SRC/reclaimfuzz")
        if cflite:
            if "COPY . $SRC/reclaimfuzz" not in lines:
                self.problem(path, "must COPY . $SRC/reclaimfuzz (ClusterFuzzLite builds the checkout)")
            if "COPY .clusterfuzzlite/build.sh $SRC/" not in lines:
                self.problem(path, "must COPY .clusterfuzzlite/build.sh $SRC/")
        else:
            if "COPY build.sh $SRC/" not in lines:
                self.problem(path, "must COPY build.sh $SRC/")
            m = re.search(r"git clone .*?(https://\S+?)(?:\.git)? \$SRC/reclaimfuzz\b", joined)
            if not m:
                self.problem(path, "must clone reclaimfuzz into $SRC/reclaimfuzz")
            elif main_repo and m.group(1).rstrip("/") != main_repo.rstrip("/"):
                self.problem(path, f"clones {m.group(1)}, but project.yaml's main_repo is {main_repo}")

    # --- build.sh -----------------------------------------------------------
    def check_build_sh(self, path):
        text = self.read(path)
        if text is None:
            return
        if not os.access(path, os.X_OK):
            self.problem(path, "is not executable")
        if not text.startswith("#!/bin/bash -eu\n"):
            self.problem(path, "must start with #!/bin/bash -eu")
        code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
        used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", code))
        extra = used - BUILD_ENV
        if extra:
            self.problem(path, f"reads variables OSS-Fuzz does not set: {sorted(extra)}")
        if "LIB_FUZZING_ENGINE" not in used and "tools/oss-fuzz/build.sh" not in code:
            self.problem(path, "neither links $LIB_FUZZING_ENGINE nor runs tools/oss-fuzz/build.sh")

    # --- workflows ----------------------------------------------------------
    def check_workflows(self, folder):
        files = sorted(f for f in os.listdir(folder) if f.endswith((".yml", ".yaml"))) \
            if os.path.isdir(folder) else []
        if not files:
            self.problem(folder, "holds no workflow")
            return
        modes = {}  # mode -> (file, triggers, run step, build step)
        uploads_build = False
        for name in files:
            path = os.path.join(folder, name)
            data = self.load_yaml(path)
            if data is None:
                continue
            # YAML 1.1 reads the key `on` as true.
            triggers = data.get("on", data.get(True))
            if isinstance(triggers, str):
                triggers = {triggers: None}
            elif isinstance(triggers, list):
                triggers = {t: None for t in triggers}
            if not isinstance(triggers, dict) or not triggers:
                self.problem(path, "has no on: triggers")
                triggers = {}
            if "name" not in data:
                self.problem(path, "has no name")
            jobs = data.get("jobs")
            if not isinstance(jobs, dict) or not jobs:
                self.problem(path, "has no jobs")
                continue
            for job_name, job in jobs.items():
                where = f"job {job_name}"
                if not isinstance(job, dict) or "runs-on" not in job or not isinstance(job.get("steps"), list):
                    self.problem(path, f"{where}: needs runs-on and a list of steps")
                    continue
                matrix = ((job.get("strategy") or {}).get("matrix") or {}).get("sanitizer")
                if matrix is not None:
                    if not isinstance(matrix, list) or not matrix:
                        self.problem(path, f"{where}: matrix.sanitizer must be a non-empty list")
                    elif set(matrix) - SUPPORTED_SANITIZERS:
                        self.problem(path, f"{where}: sanitizers {sorted(set(matrix) - SUPPORTED_SANITIZERS)} "
                                           f"are not built by tools/oss-fuzz/build.sh's check")
                build = run = None
                for step in job["steps"]:
                    uses = step.get("uses", "") if isinstance(step, dict) else ""
                    if "clusterfuzzlite" not in uses:
                        continue
                    args = step.get("with") or {}
                    if uses == CFLITE_BUILD:
                        build = args
                        if args.get("language") != "c++":
                            self.problem(path, f"{where}: build_fuzzers needs language: c++")
                        if args.get("upload-build") is True:
                            uploads_build = "push" in triggers
                    elif uses == CFLITE_RUN:
                        run = args
                        if not isinstance(args.get("fuzz-seconds"), int) or args["fuzz-seconds"] <= 0:
                            self.problem(path, f"{where}: run_fuzzers needs a positive fuzz-seconds")
                        mode = args.get("mode")
                        if mode not in CFLITE_MODES:
                            self.problem(path, f"{where}: unknown mode {mode!r}")
                        else:
                            modes.setdefault(mode, (path, triggers, args, None))
                    else:
                        self.problem(path, f"{where}: unexpected ClusterFuzzLite action {uses!r} "
                                           f"(expected {CFLITE_BUILD} or {CFLITE_RUN})")
                if run is not None:
                    if build is None:
                        self.problem(path, f"{where}: run_fuzzers without build_fuzzers before it")
                    elif build.get("sanitizer", "address") != run.get("sanitizer", "address"):
                        self.problem(path, f"{where}: build and run use different sanitizers")
                    if run.get("mode") in CFLITE_MODES:
                        p, t, a, _ = modes[run["mode"]]
                        modes[run["mode"]] = (p, t, a, build)
        for mode in sorted(CFLITE_MODES - modes.keys()):
            self.problem(folder, f"no workflow runs ClusterFuzzLite mode '{mode}'")
        if "code-change" in modes and "pull_request" not in modes["code-change"][1]:
            self.problem(modes["code-change"][0], "code-change fuzzing must run on pull_request")
        for mode in ("batch", "prune", "coverage"):
            if mode in modes and "schedule" not in modes[mode][1]:
                self.problem(modes[mode][0], f"{mode} must run on a schedule")
        if "coverage" in modes:
            path, _, run, build = modes["coverage"]
            if run.get("sanitizer") != "coverage" or (build or {}).get("sanitizer") != "coverage":
                self.problem(path, "coverage mode must build and run with sanitizer: coverage")
        if not uploads_build:
            self.problem(folder, "no workflow uploads builds on push (upload-build: true), "
                                 "so code-change fuzzing would blame every known crash on the change")

    # --- .options and .dict -------------------------------------------------
    def check_options(self, path):
        parser = configparser.ConfigParser()
        try:
            with open(path, encoding="utf-8") as f:
                parser.read_file(f)
        except (OSError, configparser.Error) as e:
            self.problem(path, f"does not parse as ClusterFuzz reads it: {str(e).splitlines()[0]}")
            return
        unknown = set(parser.sections()) - OPTIONS_SECTIONS
        if unknown:
            self.problem(path, f"unknown sections {sorted(unknown)}")
        if parser.get("asan", "detect_stack_use_after_return", fallback=None) != "0":
            self.problem(path, "[asan] must set detect_stack_use_after_return = 0 (fibers)")
        max_len = parser.get("libfuzzer", "max_len", fallback="1")
        if not max_len.isdigit() or int(max_len) <= 0:
            self.problem(path, f"[libfuzzer] max_len must be a positive integer (got {max_len!r})")

    def check_dict(self, path):
        text = self.read(path)
        if text is None:
            return
        entry = re.compile(r'^([A-Za-z0-9_]+=)?"((?:[^"\\]|\\\\|\\"|\\x[0-9A-Fa-f]{2})*)"$')
        count = 0
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not entry.match(line):
                self.problem(path, f"line {number} is not a libFuzzer dictionary entry: {line}")
            count += 1
        if count == 0:
            self.problem(path, "has no entries")

    def run(self):
        oss = self.path("tools", "oss-fuzz")
        project = self.check_project_yaml(os.path.join(oss, "project.yaml"), oss_fuzz=True)
        self.check_dockerfile(os.path.join(oss, "Dockerfile"), cflite=False,
                              main_repo=(project or {}).get("main_repo"))
        self.check_build_sh(os.path.join(oss, "build.sh"))
        cfl = self.path(".clusterfuzzlite")
        self.check_project_yaml(os.path.join(cfl, "project.yaml"), oss_fuzz=False)
        self.check_dockerfile(os.path.join(cfl, "Dockerfile"), cflite=True)
        self.check_build_sh(os.path.join(cfl, "build.sh"))
        self.check_workflows(self.path(".github", "workflows"))
        self.check_options(os.path.join(oss, "reclaimfuzz.options"))
        self.check_dict(os.path.join(oss, "reclaimfuzz.dict"))
        return self.problems


FILES = ["tools/oss-fuzz/project.yaml", "tools/oss-fuzz/Dockerfile", "tools/oss-fuzz/build.sh",
         "tools/oss-fuzz/reclaimfuzz.options", "tools/oss-fuzz/reclaimfuzz.dict",
         ".clusterfuzzlite/project.yaml", ".clusterfuzzlite/Dockerfile", ".clusterfuzzlite/build.sh",
         ".github/workflows"]


def replace(path, old, new):
    def edit(root):
        p = os.path.join(root, path)
        with open(p, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise AssertionError(f"self-test: {old!r} not in {path}")
        with open(p, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))
    return edit


# (what is broken, how, a word the problem line must contain)
BREAKS = [
    ("project language", replace("tools/oss-fuzz/project.yaml", "language: c++", "language: c"), "language"),
    ("YAML syntax", replace(".clusterfuzzlite/project.yaml", "language: c++", "language: [c++"), "YAML"),
    ("engine list", replace("tools/oss-fuzz/project.yaml", "  - afl\n", ""), "fuzzing_engines"),
    ("base image", replace("tools/oss-fuzz/Dockerfile", "FROM gcr.io/oss-fuzz-base/base-builder",
                           "FROM ubuntu:20.04"), "FROM"),
    ("Abseil clone", replace(".clusterfuzzlite/Dockerfile", "$SRC/abseil-cpp", "$SRC/absl"), "abseil-cpp"),
    ("repository URL", replace("tools/oss-fuzz/Dockerfile", "/reclaimfuzz.git", "/other.git"), "main_repo"),
    ("non-OSS-Fuzz variable", replace("tools/oss-fuzz/build.sh", "jobs=$(nproc)", "jobs=$LDFLAGS"), "LDFLAGS"),
    ("missing jobs", replace(".github/workflows/cflite_build.yml", "jobs:", "notjobs:"), "jobs"),
    ("missing prune mode", replace(".github/workflows/cflite_cron.yml", "mode: 'prune'", "mode: 'batch'"),
     "prune"),
    ("unknown mode", replace(".github/workflows/cflite_batch.yml", "mode: 'batch'", "mode: 'fuzz'"), "mode"),
    ("action version", replace(".github/workflows/cflite_pr.yml", "run_fuzzers@v1", "run_fuzzers@v9"),
     "action"),
    ("PR trigger", replace(".github/workflows/cflite_pr.yml", "pull_request:", "push:"), "pull_request"),
    ("coverage sanitizer", replace(".github/workflows/cflite_cron.yml", "sanitizer: 'coverage'",
                                   "sanitizer: 'address'"), "coverage"),
    ("matrix sanitizer", replace(".github/workflows/cflite_pr.yml", "- undefined", "- memory"), "sanitizers"),
    ("options syntax", replace("tools/oss-fuzz/reclaimfuzz.options", "[asan]", "[asan"), "parse"),
    ("dictionary escape", replace("tools/oss-fuzz/reclaimfuzz.dict", 'op_sleep="\\x06', 'op_sleep="\\q06'),
     "dictionary"),
]


def self_test(root):
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        def fresh():
            copy = os.path.join(tmp, "root")
            shutil.rmtree(copy, ignore_errors=True)
            for rel in FILES:
                src, dst = os.path.join(root, rel), os.path.join(copy, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, dst)
            return copy
        problems = Checker(fresh()).run()
        if problems:
            failures.append(f"the unbroken copy has problems: {problems}")
        for what, edit, word in BREAKS:
            copy = fresh()
            edit(copy)
            problems = Checker(copy).run()
            if not any(word in p for p in problems):
                failures.append(f"{what}: not caught (problems: {problems or 'none'})")
            else:
                print(f"caught: {what}: {next(p for p in problems if word in p)}")
    for f in failures:
        print(f"SELF-TEST FAILED: {f}")
    print(f"ci_files self-test: {len(BREAKS) + 1 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--self-test":
        return self_test(argv[2])
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: ci_files_test.py [--self-test] ROOT", file=sys.stderr)
        return 2
    problems = Checker(argv[1]).run()
    for p in problems:
        print(p)
    print(f"ci_files: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

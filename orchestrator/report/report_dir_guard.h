// Whether `--report-dir DIR` may be written: a directory that already holds
// an earlier run's report (a game day re-run into the same directory, a
// scheduled job's fixed path) would have it replaced file by file, and the
// history's rows for the earlier run would then link to the newer report.
// chaosctl refuses such a directory before it sends anything, unless told
// to replace it.
#pragma once

#include <string>

#include "common/status.h"

namespace chaos::orchestrator::report {

// OK when DIR does not exist, or is a directory holding none of the files a
// run or a suite writes at its top (journal.json, junit.xml, report.html,
// index.html) and no suite run directory ("NN-<title>/") with a
// journal.json. Otherwise FAILED_PRECONDITION naming the file found (or
// that DIR is not a directory), and what to do about it.
Status check_report_dir_unused(const std::string& dir);

}  // namespace chaos::orchestrator::report

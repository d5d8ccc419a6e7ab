// A Boost.Process initializer that lets a child inherit only its standard
// streams. Boost.Process creates its pipes without O_CLOEXEC, so a child
// forked by one thread inherits the pipe ends of a command another thread
// is starting at the same moment. Two `nft -f -` children then each hold
// the other's stdin open, neither sees end-of-file, and both hang until
// their timeout: the faults that run commands concurrently deadlock each
// other. In the child, after fork and before exec, every descriptor above
// stderr is marked close-on-exec (Boost's own exec-error pipe already is).
#pragma once

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/process/extend.hpp>

namespace chaos {

struct InheritOnlyStandardStreams : boost::process::extend::handler {
  template <class Executor>
  void on_exec_setup(Executor&) const {
    // Async-signal-safe calls only: this runs in a forked child.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    const long open_max = ::sysconf(_SC_OPEN_MAX);
    const int limit = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;
    for (int fd = 3; fd < limit; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
};

}  // namespace chaos

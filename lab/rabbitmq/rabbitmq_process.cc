#include "lab/rabbitmq/rabbitmq_process.h"

#include "lab/rabbitmq/rabbitmq_config.h"

namespace chaos::lab {

std::string rabbitmq_process_name(const LabLayout& layout, int node) {
  return "rabbitmq-" + layout.node_name(node);
}

ProcessSpec rabbitmq_process_spec(const LabLayout& layout, int node) {
  const std::string dir = rabbitmq_dir(layout, node);
  const std::string name = rabbitmq_process_name(layout, node);
  std::vector<std::string> argv = {
      "ip", "netns", "exec", layout.netns(node), "env", "-i",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=C.UTF-8",
      // Erlang reads (and the CLI tools would write) $HOME/.erlang.cookie.
      "HOME=" + rabbitmq_home(layout, node),
      "RABBITMQ_NODENAME=" + rabbitmq_node_name(layout, node),
      // rabbit@n1.lab: a long name, resolved through the lab's DNS.
      "RABBITMQ_USE_LONGNAME=true",
      "RABBITMQ_MNESIA_BASE=" + dir + "/mnesia",
      "RABBITMQ_LOG_BASE=" + dir + "/log",
      "RABBITMQ_CONFIG_FILE=" + rabbitmq_config_path(layout, node),
      "RABBITMQ_ENABLED_PLUGINS_FILE=" + rabbitmq_plugins_path(layout, node),
      "RABBITMQ_PID_FILE=" + dir + "/rabbitmq.pid",
      // Instead of /etc/rabbitmq/rabbitmq-env.conf, which may set other paths.
      "RABBITMQ_CONF_ENV_FILE=" + dir + "/rabbitmq-env.conf",
      "RUNNING_UNDER_SYSTEMD=true",
      "ERL_CRASH_DUMP=" + dir + "/log/erl_crash.dump",
      kRabbitmqServerScript};
  // beam.smp's argv carries "-home <HOME>", which tells `down` it is this node's.
  return ProcessSpec{name, "beam.smp", rabbitmq_home(layout, node), std::move(argv), layout.logfile(name),
                     layout.pidfile(name), std::chrono::milliseconds(2000), ""};
}

std::vector<std::string> rabbitmq_cli_argv(const LabLayout& layout, int node, const std::string& tool,
                                           const std::vector<std::string>& args) {
  const std::string dir = rabbitmq_dir(layout, node);
  std::vector<std::string> argv = {"ip", "netns", "exec", layout.netns(node), "env", "-i",
                                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                   "LANG=C.UTF-8", "HOME=" + rabbitmq_home(layout, node),
                                   "RABBITMQ_USE_LONGNAME=true", "RABBITMQ_CONF_ENV_FILE=" + dir + "/rabbitmq-env.conf",
                                   "/usr/lib/rabbitmq/bin/" + tool, "-n", rabbitmq_node_name(layout, node)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace chaos::lab

#include "lab/lab_broker.h"

#include <fstream>

#include "lab/nats_broker.h"
#include "lab/rabbitmq/rabbitmq_broker.h"

namespace chaos::lab {

const LabBroker& lab_broker(const LabLayout& layout) {
  static const NatsBroker nats;
  static const RabbitmqBroker rabbitmq;
  if (layout.params().broker == kBrokerRabbitmq) return rabbitmq;
  return nats;
}

std::string recorded_broker(const std::string& state_dir) {
  std::ifstream in(state_dir + "/broker");
  std::string broker;
  if (in >> broker && broker == kBrokerRabbitmq) return kBrokerRabbitmq;
  return kBrokerNats;
}

}  // namespace chaos::lab

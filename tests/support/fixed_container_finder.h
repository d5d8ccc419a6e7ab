// A ContainerFinder that answers every selector with the containers it was
// given (the ones a test started), as the real finder would resolve them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/targets/container_finder.h"

namespace chaos::testing {

class FixedContainerFinder final : public agent::ContainerFinder {
 public:
  explicit FixedContainerFinder(std::vector<v1::ContainerRef> refs) : refs_(std::move(refs)) {}
  explicit FixedContainerFinder(v1::ContainerRef ref) : refs_{std::move(ref)} {}
  StatusOr<std::vector<v1::ContainerRef>> find(const v1::ContainerSelector&, const std::string&,
                                               std::uint64_t) override {
    return refs_;
  }

 private:
  std::vector<v1::ContainerRef> refs_;
};

}  // namespace chaos::testing

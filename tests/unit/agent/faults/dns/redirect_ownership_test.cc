#include "agent/faults/dns/redirect_ownership.h"

#include <gtest/gtest.h>

#include "agent/faults/dns/dns_redirect_rules.h"

namespace chaos::agent::dns {
namespace {

FaultContext context_for(const std::string& fault_id) {
  FaultContext context;
  context.fault_id = fault_id;
  return context;
}

TEST(RedirectOwnership, TheJournalsTableIsUsedWhenItIsOneWeMake) {
  const nlohmann::json undo = {{"nft_table", redirect_table_name("older-id")}};
  EXPECT_EQ(owned_nft_table(context_for("f1"), undo, "chaos_dns_", redirect_table_name), "chaos_dns_older_id");
}

TEST(RedirectOwnership, AJournalNamingAnotherTableFallsBackToTheFaultsOwn) {
  const std::string own = redirect_table_name("f1");
  for (const nlohmann::json& undo :
       {nlohmann::json{{"nft_table", "filter"}}, nlohmann::json{{"nft_table", "chaos_tcp_f1"}},
        nlohmann::json{{"nft_table", "chaos_dns_"}}, nlohmann::json{{"nft_table", "chaos_dns_a-b"}},
        nlohmann::json{{"nft_table", 42}}, nlohmann::json::array(), nlohmann::json()}) {
    EXPECT_EQ(owned_nft_table(context_for("f1"), undo, "chaos_dns_", redirect_table_name), own) << undo.dump();
  }
}

TEST(RedirectOwnership, TheHostNamespaceKeyIsTheThreadsNamespaceInode) {
  const std::string key = fault_network_namespace_key(context_for("f1"));
  EXPECT_NE(key.find(':'), std::string::npos) << key;
  EXPECT_EQ(key, fault_network_namespace_key(context_for("f2"))) << "same namespace, same key";
}

}  // namespace
}  // namespace chaos::agent::dns

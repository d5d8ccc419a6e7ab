// The CA's openssl argv (through a fake runner) and its input checks.
#include "common/pki.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/fake_command_runner.h"

namespace chaos::pki {
namespace {

namespace fs = std::filesystem;

std::string joined(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) /
            ("pki-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
  testing::FakeCommandRunner runner_;
};

TEST(PkiNamesTest, NamesAndSansAreValidated) {
  EXPECT_TRUE(check_certificate_name("n1.lab").ok());
  EXPECT_TRUE(check_certificate_name("chaosctl_ci-2").ok());
  for (const char* bad : {"", "-x", ".hidden", "../etc", "a/b", "a b", "CN=x/O=y", "x\n"}) {
    EXPECT_FALSE(check_certificate_name(bad).ok()) << bad;
  }
  EXPECT_FALSE(check_certificate_name(std::string(65, 'a')).ok());
  EXPECT_EQ(*subject_alt_name("10.77.0.11"), "IP:10.77.0.11");
  EXPECT_EQ(*subject_alt_name("::1"), "IP:::1");
  EXPECT_EQ(*subject_alt_name("n1.lab"), "DNS:n1.lab");
  EXPECT_EQ(*subject_alt_name("*.lab"), "DNS:*.lab");
  for (const char* bad : {"", "a,DNS:evil", "a b", "..", "-a", "x/y"}) EXPECT_FALSE(subject_alt_name(bad).ok()) << bad;
}

TEST_F(PkiTest, InitCreatesAPrivateKeyFileAndRunsOpensslWithArgv) {
  CertificateAuthority authority(runner_, dir_);
  auto written = authority.init(3650, false);
  ASSERT_TRUE(written.ok()) << written.status().message();
  EXPECT_EQ(*written, (std::vector<std::string>{dir_ + "/ca.crt", dir_ + "/ca.key"}));
  ASSERT_EQ(runner_.calls().size(), 1u);
  const auto calls = runner_.calls();
  const auto& argv = calls[0];
  EXPECT_EQ(argv[0], "openssl");
  EXPECT_NE(joined(argv).find("-subj /O=chaos/CN=chaos CA"), std::string::npos) << joined(argv);
  EXPECT_NE(joined(argv).find("basicConstraints=critical,CA:TRUE"), std::string::npos);
  struct stat info {};
  ASSERT_EQ(::stat((dir_ + "/ca.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST_F(PkiTest, IssueNeedsACaAndRefusesToOverwrite) {
  CertificateAuthority authority(runner_, dir_);
  IssueRequest request{CertificateRole::kAgent, "n1", {"n1.lab", "10.77.0.11"}, 30};
  EXPECT_EQ(authority.issue(request, false).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(authority.init(30, false).ok());
  std::ofstream(dir_ + "/ca.crt") << "pem";  // the fake runner writes nothing
  EXPECT_EQ(authority.init(30, false).status().code(), StatusCode::kAlreadyExists);
  runner_.clear();
  auto written = authority.issue(request, false);
  ASSERT_TRUE(written.ok()) << written.status().message();
  ASSERT_EQ(runner_.calls().size(), 2u);
  const std::string csr = joined(runner_.calls()[0]);
  EXPECT_NE(csr.find("subjectAltName=DNS:n1,DNS:n1.lab,IP:10.77.0.11"), std::string::npos) << csr;
  EXPECT_NE(csr.find("extendedKeyUsage=serverAuth"), std::string::npos);
  EXPECT_NE(joined(runner_.calls()[1]).find("-CAkey " + dir_ + "/ca.key"), std::string::npos);
  std::ofstream(dir_ + "/n1.crt") << "pem";
  EXPECT_EQ(authority.issue(request, false).status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(authority.issue(request, true).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/.n1.csr"));
}

TEST_F(PkiTest, ClientCertificatesCarryClientAuthAndBadNamesRunNothing) {
  CertificateAuthority authority(runner_, dir_);
  ASSERT_TRUE(authority.init(30, false).ok());
  std::ofstream(dir_ + "/ca.crt") << "pem";
  runner_.clear();
  ASSERT_TRUE(authority.issue({CertificateRole::kClient, "chaosctl", {}, 30}, false).ok());
  EXPECT_NE(joined(runner_.calls()[0]).find("extendedKeyUsage=clientAuth"), std::string::npos);
  runner_.clear();
  EXPECT_FALSE(authority.issue({CertificateRole::kAgent, "../x", {}, 30}, false).ok());
  EXPECT_FALSE(authority.issue({CertificateRole::kAgent, "n2", {"a,DNS:evil"}, 30}, false).ok());
  EXPECT_FALSE(authority.issue({CertificateRole::kAgent, "ca", {}, 30}, false).ok());
  EXPECT_TRUE(runner_.calls().empty());
}

TEST_F(PkiTest, OpensslFailureIsReportedAndLeavesNoCsr) {
  CertificateAuthority authority(runner_, dir_);
  ASSERT_TRUE(authority.init(30, false).ok());
  std::ofstream(dir_ + "/ca.crt") << "pem";
  runner_.fail_on("x509", "unable to load CA private key");
  auto written = authority.issue({CertificateRole::kAgent, "n1", {}, 30}, false);
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.status().message().find("unable to load CA private key"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/.n1.csr"));
}

}  // namespace
}  // namespace chaos::pki
